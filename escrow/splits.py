"""Who captured money belongs to, and how much of a pledge may be taken.

The split: among the slate's signed candidates, by the supporter's allocation or equally;
each share capped by what the donor may still give that candidate (the contribution limits
are compliance's, asked through ``capture_policy``). A release reads what every pledge of a
chunk would read alike once, into a ``ReleaseContext``; a single step outside a release
reads it for itself.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from candidates.selectors import valid_signatures
from pledges.models import Pledge, PledgeAllocation

from .allocation import allocate
from .capture_policy import CaptureVerdict, capture_policy
from .errors import NothingCapturable
from .models import CardSetup, Payment

logger = logging.getLogger(__name__)


def signed_candidate_ids(slate) -> list[int]:
    return sorted(valid_signatures(slate).values_list("candidate_id", flat=True))


@dataclass(frozen=True)
class ReleaseContext:
    """What settling a chunk of one releasing slate's pledges reads once, not per pledge.

    ``pledges`` is a snapshot read without locks, like the read ``release_pledge`` makes to
    choose a step; every step then locks its rows and checks the state again, so a pledge
    that moved since the snapshot is refused cleanly and the sweeper's next walk settles it.
    The rest does not change once the slate has locked: signatures, each pledge's required
    candidates and allocation (a pledge is final at the lock), and its declaration."""

    slate_id: int
    signed_ids: list[int]
    pledges: dict[int, Pledge]
    required_ids: dict[int, set[int]]
    weights: dict[int, dict[int, int]]
    open_payments: dict[int, Payment]
    with_card: set[int]
    capture: object  # the capture policy's own shared reads


def release_context(*, slate_id: int, pledge_ids: list[int]) -> ReleaseContext:
    """The shared reads for settling ``pledge_ids`` of a releasing slate: about a dozen
    queries for a chunk of any size; the capture policy reads what it shares too (and makes
    sure every supporter has a donor record, so deciding a capture only locks and reads
    that donor)."""
    policy = capture_policy.get()
    pledges = Pledge.objects.select_related("slate").in_bulk(pledge_ids)
    required: dict[int, set[int]] = defaultdict(set)
    through = Pledge.condition_required_candidates.through.objects.filter(pledge_id__in=pledge_ids)
    for pledge_id, candidate_id in through.values_list("pledge_id", "candidate_id"):
        required[pledge_id].add(candidate_id)
    weights: dict[int, dict[int, int]] = defaultdict(dict)
    allocations = PledgeAllocation.objects.filter(pledge_id__in=pledge_ids)
    for pledge_id, candidate_id, weight in allocations.values_list(
        "pledge_id", "candidate_id", "weight_bps"
    ):
        weights[pledge_id][candidate_id] = weight
    open_payments = {
        payment.pledge_id: payment
        for payment in Payment.objects.filter(pledge_id__in=pledge_ids, status__in=Payment.OPEN)
    }
    with_card = set(
        CardSetup.objects.filter(
            pledge_id__in=pledge_ids, status=CardSetup.Status.SUCCEEDED
        ).values_list("pledge_id", flat=True)
    )
    any_pledge = next(iter(pledges.values()), None)
    signed = signed_candidate_ids(any_pledge.slate) if any_pledge is not None else []
    capture = policy.prepare(
        supporter_ids={p.supporter_id for p in pledges.values()}, pledge_ids=pledge_ids,
        candidate_ids=signed,
    )  # fmt: skip
    return ReleaseContext(
        slate_id=slate_id, signed_ids=signed, pledges=pledges, required_ids=required,
        weights=weights, open_payments=open_payments, with_card=with_card, capture=capture,
    )  # fmt: skip


def planned_split(
    pledge: Pledge,
    amount_cents: int,
    weights: dict[int, int] | None = None,
    signed_ids: list[int] | None = None,
) -> dict[int, int]:
    """``amount_cents`` split among the signed candidates: the supporter's allocation, else
    equally (remainders to the largest fractions). ``weights`` (the allocation) and
    ``signed_ids``: when the caller has read them."""
    if weights is None:
        weights = {a.candidate_id: a.weight_bps for a in pledge.allocations.all()}
    if signed_ids is None:
        signed_ids = signed_candidate_ids(pledge.slate)
    return allocate(amount_cents, signed_ids, weights)


def decide_capture(
    pledge: Pledge, amount_cents: int, context: ReleaseContext | None = None
) -> CaptureVerdict:
    """What may be taken from ``amount_cents`` now: each candidate's share capped by what the
    donor may still give that candidate for this election. The capture policy records the
    decision under the donor's lock, so the donor's other captures running at the same
    moment count it. ``context``: the release's shared reads, when the caller has them."""
    policy = capture_policy.get()
    if context is None:
        signed_ids, weights, capture = signed_candidate_ids(pledge.slate), None, None
    else:
        signed_ids = context.signed_ids
        weights, capture = context.weights.get(pledge.pk, {}), context.capture
    return policy.decide(
        pledge=pledge, planned=planned_split(pledge, amount_cents, weights, signed_ids),
        at=timezone.now(), signed_candidate_ids=signed_ids, context=capture,
    )  # fmt: skip


def nothing_capturable(decision: CaptureVerdict) -> NothingCapturable:
    why = " ".join(decision.reasons) or "The contribution limits leave nothing to capture."
    return NothingCapturable("nothing_capturable", why[:400])


def credited_parts(pledge: Pledge, captured_cents: int) -> tuple[dict[int, int], list[str]]:
    """Who is credited with a capture, and why it was capped (if it was): the split decided
    before the capture was sent, when it adds up to what Stripe took; else (say a capture
    made in the Stripe dashboard) the planned split of what was taken."""
    decision = capture_policy.get().decided_split(pledge_id=pledge.pk)
    if decision is not None:
        if decision.total_cents == captured_cents:
            return dict(decision.capturable), list(decision.reasons)
        logger.warning(
            "pledge %s: Stripe captured %s cents, the decision allowed %s; crediting the split",
            pledge.pk, captured_cents, decision.total_cents,
        )  # fmt: skip
    return planned_split(pledge, captured_cents), []
