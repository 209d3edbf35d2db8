"""Reads about pledges, including the from-scratch recount that audits the maintained totals."""

from dataclasses import dataclass

from django.db.models import QuerySet

from slate.models import Slate
from slate.totals import Breakdown, Counts, breakdown_sum

from .models import Pledge
from .states import LIVE_MONEY_STATES, LIVE_NON_MONEY_STATES, PledgeKind
from .totals import PledgeFigures, pledge_breakdown, pledge_counts

FIGURE_FIELDS = (
    "kind", "state", "amount_cents", "captured_cents", "refunded_cents", "hours",
    "supporter_state", "referred_by_id", "created_at",
)  # fmt: skip


def pledges_of(user) -> QuerySet[Pledge]:
    return Pledge.objects.filter(supporter=user).select_related("slate")


def live_pledges(slate: Slate) -> QuerySet[Pledge]:
    return Pledge.objects.filter(slate=slate).filter(
        kind=PledgeKind.MONEY, state__in=LIVE_MONEY_STATES
    ) | Pledge.objects.filter(slate=slate).exclude(kind=PledgeKind.MONEY).filter(
        state__in=LIVE_NON_MONEY_STATES
    )


@dataclass(frozen=True)
class Recount:
    counts: Counts
    breakdown: Breakdown


def recount_slate(slate_id: int) -> Recount:
    """Sum every pledge's contribution: a full scan, for audits and repairs, never for pages."""
    total = Counts()
    parts: list[Breakdown] = []
    live_supporters: set[int] = set()
    rows = Pledge.objects.filter(slate_id=slate_id).values_list("supporter_id", *FIGURE_FIELDS)
    for supporter_id, *values in rows.iterator(chunk_size=2000):
        figures = PledgeFigures(**dict(zip(FIGURE_FIELDS, values, strict=True)))
        total = total + pledge_counts(figures)
        parts.append(pledge_breakdown(figures))
        if figures.live:
            live_supporters.add(supporter_id)
    total = total + Counts(supporter_count=len(live_supporters))
    return Recount(counts=total, breakdown=breakdown_sum(parts))
