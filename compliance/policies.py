"""Compliance's answers to the questions asked below it: may this money pledge be taken
(``pledges.intake_policy``), and how much of a pledge may be captured, for whom
(``escrow.capture_policy``). ``ComplianceConfig.ready`` registers both at startup."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from escrow.capture_policy import capture_policy
from pledges.intake_policy import money_pledge_policy
from pledges.models import Pledge
from pledges.validation import PledgeError

from . import pledging
from .capping import CappedAllocation
from .errors import ComplianceError
from .models import CaptureDecision
from .selectors import CaptureContext, capture_context
from .services import decide_capture, ensure_donors


class ContributionRulesAtIntake:
    def check(self, **pledge) -> pledging.CheckedPledge:
        try:
            return pledging.check_money_pledge(**pledge)
        except ComplianceError as exc:
            # The pledge form and the API show a PledgeError beside its field.
            raise PledgeError(exc.code, exc.message, field=exc.field) from None

    def record(self, *, pledge: Pledge, checked: pledging.CheckedPledge) -> None:
        pledging.record_declaration(pledge=pledge, checked=checked, new_pledge=True)


class ContributionLimitsOnCaptures:
    def prepare(
        self, *, supporter_ids: Iterable[int], pledge_ids: Iterable[int], candidate_ids: list[int]
    ) -> CaptureContext:
        # Every donor record exists first, so each decision only locks and reads its donor.
        ensure_donors(supporter_ids)
        return capture_context(pledge_ids=pledge_ids, candidate_ids=candidate_ids)

    def decide(
        self,
        *,
        pledge: Pledge,
        planned: Mapping[int, int],
        at: datetime,
        signed_candidate_ids: list[int],
        context: CaptureContext | None,
    ) -> CappedAllocation:
        return decide_capture(
            pledge=pledge, planned=planned, at=at, signed_candidate_ids=signed_candidate_ids,
            context=context,
        )  # fmt: skip

    def decided_split(self, *, pledge_id: int) -> CappedAllocation | None:
        decision = CaptureDecision.objects.filter(pledge_id=pledge_id).first()
        if decision is None:
            return None
        return CappedAllocation(
            capturable={int(cid): cents for cid, cents in decision.capturable.items() if cents},
            reasons=tuple(decision.reasons),
        )


# One instance each: registering them again (``ready`` run twice) is then harmless.
RULES_AT_INTAKE = ContributionRulesAtIntake()
LIMITS_ON_CAPTURES = ContributionLimitsOnCaptures()


def register() -> None:
    money_pledge_policy.register(RULES_AT_INTAKE)
    capture_policy.register(LIMITS_ON_CAPTURES)
