"""Reads about pledges, including the from-scratch recount that audits the maintained totals."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from candidates.selectors import candidate_facts
from slate.models import Slate
from slate.selectors import is_organizer, slate_breakdown, slate_counts
from slate.totals import BREAKDOWN_DIMENSIONS, COUNTER_FIELDS, Breakdown, Counts, breakdown_sum

from .models import Pledge, Referral, SlateSupporter
from .states import LIVE_MONEY_STATES, LIVE_NON_MONEY_STATES, PledgeKind, PledgeState
from .totals import PledgeFigures, pledge_breakdown, pledge_counts

FIGURE_FIELDS = (
    "kind", "state", "amount_cents", "captured_cents", "refunded_cents", "hours",
    "supporter_state", "referred_by_id", "created_at", "partner_code_id",
)  # fmt: skip


def pledges_of(user) -> QuerySet[Pledge]:
    return Pledge.objects.filter(supporter=user).select_related("slate")


@dataclass(frozen=True)
class Recount:
    counts: Counts
    breakdown: Breakdown
    live_pledges_by_supporter: dict[int, int]


def recount_slate(slate_id: int) -> Recount:
    """Sum every pledge's contribution: a full scan, for audits and repairs, never for pages."""
    total = Counts()
    parts: list[Breakdown] = []
    live_by_supporter: dict[int, int] = {}
    rows = Pledge.objects.filter(slate_id=slate_id).values_list("supporter_id", *FIGURE_FIELDS)
    for supporter_id, *values in rows.iterator(chunk_size=2000):
        figures = PledgeFigures(**dict(zip(FIGURE_FIELDS, values, strict=True)))
        total = total + pledge_counts(figures)
        parts.append(pledge_breakdown(figures))
        if figures.live:
            live_by_supporter[supporter_id] = live_by_supporter.get(supporter_id, 0) + 1
    total = total + Counts(supporter_count=len(live_by_supporter))
    return Recount(
        counts=total,
        breakdown=breakdown_sum(parts),
        live_pledges_by_supporter=live_by_supporter,
    )


@dataclass(frozen=True)
class TotalsDrift:
    slate_id: int
    differences: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.differences


def _compare(slate_id: int) -> TotalsDrift:
    recount = recount_slate(slate_id)
    maintained = slate_counts(slate_id)
    differences = [
        f"{name}: maintained {getattr(maintained, name)}, recount {getattr(recount.counts, name)}"
        for name in COUNTER_FIELDS
        if getattr(maintained, name) != getattr(recount.counts, name)
    ]
    for dimension in BREAKDOWN_DIMENSIONS:
        kept = dict(slate_breakdown(slate_id, dimension))
        expected = {k: v for (d, k), v in recount.breakdown.items() if d == dimension}
        for key in sorted(kept.keys() | expected.keys()):
            if kept.get(key) != expected.get(key):
                differences.append(
                    f"{dimension}={key}: maintained {kept.get(key)}, recount {expected.get(key)}"
                )
    kept_supporters = dict(
        SlateSupporter.objects.filter(slate_id=slate_id, live_pledge_count__gt=0).values_list(
            "supporter_id", "live_pledge_count"
        )
    )
    if kept_supporters != recount.live_pledges_by_supporter:
        wrong = sorted(
            s
            for s in kept_supporters.keys() | recount.live_pledges_by_supporter.keys()
            if kept_supporters.get(s) != recount.live_pledges_by_supporter.get(s)
        )
        differences.append(f"live pledge counts differ for {len(wrong)} supporter(s)")
    slate = Slate.objects.get(pk=slate_id)
    facts = candidate_facts(slate)
    for name in ("signed_candidate_count", "invited_candidate_count", "required_unsigned_count"):
        if getattr(slate, name) != getattr(facts, name):
            differences.append(
                f"{name}: maintained {getattr(slate, name)}, recount {getattr(facts, name)}"
            )
    return TotalsDrift(slate_id=slate_id, differences=tuple(differences))


def totals_drift(slate_id: int) -> TotalsDrift:
    """Compare a slate's maintained totals and candidate facts with a recount.

    Both sides are read from one REPEATABLE READ snapshot, so pledges committing meanwhile
    cannot show up as false drift, and nothing is locked.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # Only the first statement of a transaction may set its isolation; inside a caller's
        # transaction (tests, repair) the caller's snapshot rules.
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _compare(slate_id)


# --- For the organizers of a slate ------------------------------------------------------------

NEEDS_ACTION_SHOWN = 25


@dataclass(frozen=True)
class NeedsAction:
    count: int
    pledges: list[Pledge]


def needs_action(slate_id: int, limit: int = NEEDS_ACTION_SHOWN) -> NeedsAction:
    """Money pledges waiting for their supporter. Both queries go through the (slate, state)
    index, so they touch only the pledges in ``needs_action``, never the rest of the slate."""
    pledges = Pledge.objects.filter(slate_id=slate_id, state=PledgeState.NEEDS_ACTION)
    shown = list(pledges.select_related("supporter").order_by("state_changed_at", "id")[:limit])
    count = len(shown) if len(shown) < limit else pledges.count()
    return NeedsAction(count=count, pledges=shown)


EXPORT_CHUNK = 2_000


def pledges_for_export(slate_id: int, *, kind: str | None = None) -> QuerySet[Pledge]:
    """Every pledge of a slate with its supporter, oldest first (for the CSV exports, which
    stream it with ``.iterator(chunk_size=EXPORT_CHUNK)``)."""
    pledges = Pledge.objects.filter(slate_id=slate_id).select_related("supporter", "referred_by")
    if kind is not None:
        pledges = pledges.filter(kind=kind)
    return pledges.order_by("created_at", "id")


def pledges_of_slate(slate: Slate) -> QuerySet[Pledge]:
    return Pledge.objects.filter(slate=slate).select_related("supporter", "referred_by")


def may_view_donor_details(user, slate: Slate) -> bool:
    """Who sees who a slate's pledges come from (email, ZIP): its organizers and staff.

    The one place to narrow this (a treasurer role, an audit of each view) when the
    compliance rules arrive.
    """
    return is_organizer(user, slate)


# A live pledge as a query: what ``pledges.states.is_live`` decides for one pledge.
LIVE = Q(kind=PledgeKind.MONEY, state__in=LIVE_MONEY_STATES) | (
    ~Q(kind=PledgeKind.MONEY) & Q(state__in=LIVE_NON_MONEY_STATES)
)


def is_signed_on(user, slate: Slate) -> bool:
    """Whether this visitor's account has a live sign-on here (the button says so)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Pledge.objects.filter(LIVE, slate=slate, supporter=user, kind=PledgeKind.SIGNON).exists()


ROLL_SHOWN = 50


@dataclass(frozen=True)
class PublicRoll:
    """The names that asked to be shown: the newest ``ROLL_SHOWN`` and how many per state."""

    names: list[tuple[str, str]]  # (public name, state)
    by_state: list[tuple[str, int]]
    total: int


def public_roll(slate: Slate) -> PublicRoll:
    """Only sign-ons with a public name (the supporter opted in); nothing else is shown."""
    listed = Pledge.objects.filter(
        slate=slate, kind=PledgeKind.SIGNON, state=PledgeState.COMMITTED
    ).exclude(public_name="")
    names = list(
        listed.order_by("-created_at", "-id").values_list("public_name", "supporter_state")[
            :ROLL_SHOWN
        ]
    )
    by_state = list(
        listed.values_list("supporter_state")
        .annotate(n=Count("id"))
        .order_by("-n", "supporter_state")
    )
    return PublicRoll(names=names, by_state=by_state, total=sum(n for _, n in by_state))


def latest_pledge_to_thank(slate: Slate, *, user, pledge_ids) -> Pledge | None:
    """The newest live pledge to this slate of the signed-in supporter, or among the pledges
    this browser session made (a sign-on confirmed by email is not signed in)."""
    mine = Q(pk__in=[pk for pk in pledge_ids if isinstance(pk, int)])
    if getattr(user, "is_authenticated", False):
        mine |= Q(supporter=user)
    pledges = Pledge.objects.filter(mine, LIVE, slate=slate)
    return pledges.select_related("supporter").order_by("-created_at", "-id").first()


def live_kinds_of(supporter, slate: Slate) -> set[str]:
    """Which kinds of pledge the supporter has here, live: the next step offers another."""
    return set(
        Pledge.objects.filter(LIVE, slate=slate, supporter=supporter).values_list("kind", flat=True)
    )


def live_pledges_by_supporter(slate: Slate, supporter_ids) -> dict[int, list[Pledge]]:
    """The live pledges of each of ``supporter_ids`` on ``slate``, oldest first, in one query
    (a fan-out reads a batch of supporters' pledges at once, not one supporter at a time)."""
    grouped: dict[int, list[Pledge]] = {supporter_id: [] for supporter_id in supporter_ids}
    pledges = Pledge.objects.filter(LIVE, slate=slate, supporter_id__in=list(grouped))
    for pledge in pledges.order_by("created_at", "id"):
        grouped[pledge.supporter_id].append(pledge)
    return grouped


@dataclass(frozen=True)
class Brought:
    people: int
    money_cents: int


def brought_by(supporter) -> Brought:
    """ "You brought N people and $X": the people this supporter's links brought (each once
    per slate) and what those people pledged in money to that slate, live (saved, held,
    charged or paid out), less refunds."""
    referrals = Referral.objects.filter(referrer=supporter)
    people = referrals.values("supporter").distinct().count()
    if people == 0:  # most supporters: no referral, so no referred money to sum
        return Brought(people=0, money_cents=0)
    money = Pledge.objects.filter(
        Exists(referrals.filter(slate=OuterRef("slate"), supporter=OuterRef("supporter"))),
        kind=PledgeKind.MONEY,
        state__in=LIVE_MONEY_STATES,
    ).aggregate(total=Sum(F("amount_cents") - F("refunded_cents")))["total"]
    return Brought(people=people, money_cents=money or 0)
