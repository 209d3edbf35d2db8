"""Reads for the contribution rules: what a donor has given, how much room is left under
each limit, and what a pledge may capture."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from candidates.models import Candidate
from candidates.selectors import valid_signatures
from escrow.allocation import allocate
from escrow.models import LedgerAccount, LedgerEntry
from pledges.models import Pledge
from pledges.states import PledgeState

from .capping import CappedAllocation, cap_allocation
from .contributions import (
    UNREAD,
    Contribution,
    contributions,
    donor_group_user_ids,
    has_merged_donors,
)
from .models import CaptureDecision, Donor, PledgeDeclaration
from .rules import RuleBook, cycle_on

__all__ = [
    "CappedAllocation",
    "CaptureContext",
    "capped_allocation",
    "capture_context",
    "headroom_cents",
    "pledge_limit_preview",
]

# A decision of these pledges will still be captured; once captured, the ledger counts it.
_NOT_YET_CAPTURED = (PledgeState.COMMITTED, PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION)


def _day(at: datetime) -> date:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


@dataclass(frozen=True)
class CaptureContext:
    """What deciding many captures in a row shares, read once: the rules (cycles, elections,
    limits), the candidates, and whether each pledge's donor allowed reallocation (written
    once with the pledge, never changed). A release builds one per chunk of pledges, so a
    capture decision costs its donor's reads, not a dozen reads of the same small tables;
    staff edits to the rules apply from the next chunk."""

    rules: RuleBook
    candidates: Mapping[int, Candidate]
    allow_reallocation: Mapping[int, bool]


def capture_context(*, pledge_ids: Iterable[int], candidate_ids: Iterable[int]) -> CaptureContext:
    """The shared reads for deciding the captures of ``pledge_ids`` among ``candidate_ids``
    (the slate's signed candidates): five queries for any number of pledges."""
    pledge_ids = list(pledge_ids)
    # Every pledge asked about gets an answer (no declaration: no consent), so a pledge the
    # context does not cover is told apart and read on its own.
    allow_reallocation = dict.fromkeys(pledge_ids, False)
    allow_reallocation.update(
        PledgeDeclaration.objects.filter(pledge_id__in=pledge_ids).values_list(
            "pledge_id", "allow_reallocation"
        )
    )
    return CaptureContext(
        rules=RuleBook(),
        candidates=Candidate.objects.in_bulk(list(candidate_ids)),
        allow_reallocation=allow_reallocation,
    )


def headroom_cents(
    *, user_ids: list[int], candidates: Iterable[Candidate], at: datetime,
    exclude_pledge_id: int | None = None, rules: RuleBook | None = None,
    given: list[Contribution] | None = None, decisions: list[CaptureDecision] | None = None,
) -> dict[int, int | None]:  # fmt: skip
    """Per candidate: how many cents this donor (``user_ids``: the accounts of one donor)
    may still give for the election a contribution made at ``at`` counts toward. None
    where no limit applies. Counts what was captured (net of refunds) for that election and
    what other pledges of the donor were allowed to capture but have not yet. ``rules``: a
    snapshot already read (else one is read now); ``given``: the donor's contributions to (at
    least) these candidates, and ``decisions``: their capture decisions not yet captured,
    already read."""
    candidates = list(candidates)
    by_id = {c.pk: c for c in candidates}
    rules = rules or RuleBook()
    day = _day(at)
    target = {c.pk: rules.election_on(c.state, day) for c in candidates}
    limits = {c.pk: rules.limit_cents(c, target[c.pk]) for c in candidates}
    limited = [cid for cid, limit in limits.items() if limit is not None]
    used: dict[int, int] = defaultdict(int)
    if limited:
        if given is None:
            given = contributions(user_ids=user_ids, candidate_ids=limited)
        for contribution in given:
            if (
                contribution.pledge_id == exclude_pledge_id
                or limits.get(contribution.candidate_id) is None
            ):
                continue
            candidate = by_id[contribution.candidate_id]
            counts_toward = rules.election_on(candidate.state, _day(contribution.received_at))
            if counts_toward == target[candidate.pk]:
                used[candidate.pk] += contribution.net_cents
        if decisions is None:
            decisions = CaptureDecision.objects.filter(
                pledge__supporter_id__in=user_ids, pledge__state__in=_NOT_YET_CAPTURED
            ).exclude(pledge_id=exclude_pledge_id)
        for decision in decisions:
            for key, cents in decision.capturable.items():
                cid = int(key)
                if cid in limits and limits[cid] is not None:
                    candidate = by_id[cid]
                    if rules.election_on(candidate.state, _day(decision.decided_at)) == target[cid]:
                        used[cid] += cents
    return {
        cid: None if limit is None else max(0, limit - used[cid]) for cid, limit in limits.items()
    }


def slate_signed_candidate_ids(pledge: Pledge) -> list[int]:
    return sorted(valid_signatures(pledge.slate).values_list("candidate_id", flat=True))


def capped_allocation(
    pledge: Pledge,
    planned: Mapping[int, int],
    *,
    at: datetime,
    signed_candidate_ids: Iterable[int] | None = None,
    user_ids: list[int] | None = None,
    context: CaptureContext | None = None,
) -> CappedAllocation:
    """What a capture of ``pledge`` at ``at`` may take, per candidate, under the limits.

    ``planned`` maps candidate id -> cents the release would credit each candidate (e.g.
    ``escrow.allocation.allocate(pledge.amount_cents, signed_ids, weights)``). For each
    candidate, the share is capped at the donor's headroom for the election a contribution
    made at ``at`` counts toward: the limit (``ContributionLimit``) less what this donor —
    every account merged into the same ``Donor`` — already contributed to that candidate for
    that election on any slate (captures net of refunds, from the ledger) and less what the
    donor's other pledges were allowed to capture by ``decide_capture`` but have not yet.
    The pledge's own earlier captures and decision are not counted (asking again gives the
    same answer). Candidates without a limit row are not capped.

    The excess goes to the other signed candidates (``signed_candidate_ids``, read from the
    slate's valid signatures if not given) with headroom, equally, only if the donor allowed
    it (``PledgeDeclaration.allow_reallocation``); otherwise, and for whatever fits nowhere,
    it is left uncaptured (``uncaptured_cents``). ``reasons`` says why, in sentences.

    Capture ``result.total_cents`` (partial capture when below the hold) and credit
    ``result.capturable`` to the candidates. This function only reads: when captures of one
    donor's pledges can run concurrently, call ``compliance.services.decide_capture``
    instead, which takes the donor's lock and records the decision so the others see it.

    ``user_ids`` (the donor's accounts) and ``context`` (see ``CaptureContext``) save the
    reads when the caller has them; a context must cover this pledge and these candidates.
    """
    if user_ids is None:
        user_ids = donor_group_user_ids(pledge.supporter_id)
    signed = (
        sorted(set(signed_candidate_ids))
        if signed_candidate_ids is not None
        else slate_signed_candidate_ids(pledge)
    )
    wanted = set(planned) | set(signed)
    if context is None:
        context = capture_context(pledge_ids=[pledge.pk], candidate_ids=wanted)
    by_id = dict(context.candidates)
    if not wanted <= by_id.keys():  # a candidate the context was not built for: read it now
        by_id.update(Candidate.objects.in_bulk(list(wanted - by_id.keys())))
    candidates = [by_id[cid] for cid in sorted(wanted) if cid in by_id]
    headroom = headroom_cents(
        user_ids=user_ids, candidates=candidates, at=at, exclude_pledge_id=pledge.pk,
        rules=context.rules,
    )  # fmt: skip
    if pledge.pk in context.allow_reallocation:
        allow = context.allow_reallocation[pledge.pk]
    else:
        allow = PledgeDeclaration.objects.filter(
            pledge_id=pledge.pk, allow_reallocation=True
        ).exists()
    return cap_allocation(
        planned, headroom, recipients=signed, allow_reallocation=bool(allow),
        names={c.pk: c.full_name for c in candidates},
    )  # fmt: skip


@dataclass(frozen=True)
class CandidateLimitLine:
    candidate: Candidate
    planned_cents: int
    headroom_cents: int | None
    capped_cents: int


@dataclass(frozen=True)
class PledgeLimitPreview:
    """What the pledge page tells the donor before they pledge; with what it read (the rules,
    the donor's accounts and their contributions to these candidates) for the checks that
    follow in the same request."""

    lines: list[CandidateLimitLine]
    result: CappedAllocation
    rules: RuleBook | None = None
    user_ids: tuple[int, ...] = ()
    given: tuple[Contribution, ...] = ()

    @property
    def capped_lines(self) -> list[CandidateLimitLine]:
        return [line for line in self.lines if line.capped_cents]

    @property
    def nothing_fits(self) -> bool:
        return self.result.total_cents == 0


def donor_annotations() -> dict:
    """For a Donor query whose rows feed ``pledge_limit_preview``: whether anyone was merged
    into the donor, whether its account ever gave (a capture in the ledger) and whether a
    capture decision of its pledges is still open, so a donor on their own who never gave
    costs the preview no reads of the ledger or the decisions."""
    account_pledges = {"pledge__supporter_id": OuterRef("user_id")}
    return {
        "has_merged": has_merged_donors(),
        "has_given": Exists(
            LedgerEntry.objects.filter(account=LedgerAccount.CANDIDATE_PAYABLE, **account_pledges)
        ),
        "has_open_decisions": Exists(
            CaptureDecision.objects.filter(pledge__state__in=_NOT_YET_CAPTURED, **account_pledges)
        ),
    }


def pledge_limit_preview(
    *, supporter, candidates: list[Candidate], amount_cents: int,
    weights: Mapping[int, int] | None, allow_reallocation: bool, at: datetime | None = None,
    donor=UNREAD,
) -> PledgeLimitPreview:  # fmt: skip
    """The pledge's planned split (the supporter's weights, else equal among ``candidates``:
    the slate's invited candidates, as if all sign) checked against what the donor already
    gave each candidate, as at ``at`` (now). ``donor``: the supporter's Donor row (or None),
    if the caller read it already."""
    at = at or timezone.now()
    ids = [c.pk for c in candidates]
    planned = allocate(amount_cents, ids, weights) if ids else {}
    user_ids = donor_group_user_ids(supporter.pk, donor) if supporter.pk else []
    rules = RuleBook.shared()
    # No donor record yet: nothing was ever captured or decided for this account (captures
    # are decided under the donor's lock, which makes the record first). A donor read with
    # donor_annotations() and in a group of one says whether it gave or has decisions open.
    alone = donor is not UNREAD and user_ids == [supporter.pk]
    never_gave = donor is None or (alone and getattr(donor, "has_given", True) is False)
    nothing_open = donor is None or (alone and getattr(donor, "has_open_decisions", True) is False)
    given = (
        contributions(user_ids=user_ids, candidate_ids=ids)
        if ids and user_ids and not never_gave
        else []
    )
    headroom = headroom_cents(
        user_ids=user_ids, candidates=candidates, at=at, rules=rules, given=given,
        decisions=[] if nothing_open else None,
    )  # fmt: skip
    result = cap_allocation(
        planned, headroom, recipients=ids, allow_reallocation=allow_reallocation,
        names={c.pk: c.full_name for c in candidates},
    )  # fmt: skip
    lines = [
        CandidateLimitLine(c, planned.get(c.pk, 0), headroom[c.pk], result.capped.get(c.pk, 0))
        for c in candidates
        if c.pk in planned
    ]
    return PledgeLimitPreview(
        lines=lines, result=result, rules=rules, user_ids=tuple(user_ids), given=tuple(given)
    )


def cycle_aggregate_cents(*, user_ids: list[int], candidate_id: int, at: datetime) -> int:
    """What the donor gave the candidate (net) in the cycle containing ``at``."""
    cycle = cycle_on(_day(at))
    if cycle is None:
        return 0
    return sum(
        c.net_cents
        for c in contributions(user_ids=user_ids, candidate_ids=[candidate_id])
        if cycle.starts_on <= _day(c.received_at) <= cycle.ends_on
    )


def donor_for(user) -> Donor | None:
    return Donor.objects.filter(user=user).first()
