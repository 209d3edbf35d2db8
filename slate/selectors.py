"""Reads of the Slate aggregate for views, the API and dashboards.

Totals come from the maintained counter shards (a handful of rows per slate), never from a
scan of pledges, so a dashboard costs the same at a million pledges as at a hundred.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from .models import (
    Endorsement,
    PartnerOrganization,
    Slate,
    SlateBreakdownShard,
    SlateCounterShard,
    SlateTransition,
)
from .states import SlateState
from .threshold import ThresholdFacts, ThresholdRule, ThresholdVerdict, evaluate_rule
from .totals import BREAKDOWN_FIELDS, COUNTER_FIELDS, BreakdownCounts, Counts

PUBLIC_STATES = (
    SlateState.OPEN,
    SlateState.LOCKED,
    SlateState.RELEASING,
    SlateState.RELEASED,
    SlateState.EXPIRED,
    SlateState.VOIDED,
)


def open_slates() -> QuerySet[Slate]:
    return Slate.objects.filter(state=SlateState.OPEN).order_by("deadline", "id")


def public_slates() -> QuerySet[Slate]:
    return Slate.objects.filter(state__in=PUBLIC_STATES)


def is_public(slate: Slate) -> bool:
    """Whether everyone may see ``slate`` (what ``public_slates`` selects)."""
    return slate.state in PUBLIC_STATES


def slates_visible_to(user) -> QuerySet[Slate]:
    """Public slates, plus drafts the user organizes (staff see every draft)."""
    if user.is_authenticated and user.is_staff:
        return Slate.objects.all()
    query = Q(state__in=PUBLIC_STATES)
    if user.is_authenticated:
        query |= Q(organizers=user)
    return Slate.objects.filter(query).distinct()


def is_organizer(user, slate: Slate) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return slate.organizers.filter(pk=user.pk).exists()


def needs_review(slate: Slate) -> bool:
    """A new organizer's first slate waits for staff: true unless one of its organizers
    already organizes a slate that was published (by them or after staff's review)."""
    return not (
        SlateTransition.objects.filter(
            to_state=SlateState.OPEN, slate__organizers__in=slate.organizers.all()
        )
        .exclude(slate=slate)
        .exists()
    )


def review_queue() -> QuerySet[Slate]:
    """Slates waiting for staff's review, oldest first."""
    return Slate.objects.filter(state=SlateState.REVIEW).order_by("updated_at", "id")


def last_refusal(slate: Slate) -> SlateTransition | None:
    """Why staff last sent this draft back, while it is a draft again (None otherwise)."""
    if slate.state != SlateState.DRAFT:
        return None
    return (
        SlateTransition.objects.filter(
            slate=slate, from_state=SlateState.REVIEW, to_state=SlateState.DRAFT
        )
        .order_by("-created_at", "-id")
        .first()
    )


def is_partner_admin(user, organization: PartnerOrganization) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or organization.admins.filter(pk=user.pk).exists()


def slate_counts(slate_id: int) -> Counts:
    sums = SlateCounterShard.objects.filter(slate_id=slate_id).aggregate(
        **{name: Sum(name) for name in COUNTER_FIELDS}
    )
    return Counts(**{name: sums[name] or 0 for name in COUNTER_FIELDS})


def slate_breakdown(slate_id: int, dimension: str) -> list[tuple[str, BreakdownCounts]]:
    """Counters per slice of one dimension, largest money first (days: in date order)."""
    rows = (
        SlateBreakdownShard.objects.filter(slate_id=slate_id, dimension=dimension)
        .values("key")
        .annotate(**{name: Sum(name) for name in BREAKDOWN_FIELDS})
    )
    slices = [
        (row["key"], BreakdownCounts(**{name: row[name] or 0 for name in BREAKDOWN_FIELDS}))
        for row in rows
    ]
    slices = [(key, counts) for key, counts in slices if not counts.is_zero()]
    if dimension == "day":
        return sorted(slices)
    return sorted(slices, key=lambda item: (-item[1].money_cents, -item[1].pledge_count, item[0]))


def breakdown_slice(slate_id: int, dimension: str, key: str) -> BreakdownCounts:
    """One slice's counters (a state, a partner, a day): a handful of shard rows."""
    sums = SlateBreakdownShard.objects.filter(
        slate_id=slate_id, dimension=dimension, key=key
    ).aggregate(**{name: Sum(name) for name in BREAKDOWN_FIELDS})
    return BreakdownCounts(**{name: sums[name] or 0 for name in BREAKDOWN_FIELDS})


def threshold_rule(slate: Slate) -> ThresholdRule:
    return ThresholdRule(
        min_signatures=slate.threshold_min_signatures,
        min_money_cents=slate.threshold_min_money_cents,
        min_volunteer_hours=slate.threshold_min_volunteer_hours,
    )


def threshold_verdict(slate: Slate, counts: Counts | None = None) -> ThresholdVerdict:
    counts = counts if counts is not None else slate_counts(slate.pk)
    facts = ThresholdFacts(
        signed_candidates=slate.signed_candidate_count,
        required_unsigned=slate.required_unsigned_count,
        money_pledged_cents=counts.money_pledged_cents,
        volunteer_hours=counts.volunteer_hours,
    )
    return evaluate_rule(threshold_rule(slate), facts)


@dataclass(frozen=True)
class SlateProgress:
    slate: Slate
    counts: Counts
    verdict: ThresholdVerdict
    signed: int
    invited: int
    needed: int
    time_left: timedelta

    @property
    def signature_percent(self) -> int:
        return min(100, round(100 * self.signed / self.needed)) if self.needed else 100

    @property
    def days_left(self) -> int:
        return max(0, self.time_left.days)


def slate_progress(slate: Slate, now=None) -> SlateProgress:
    counts = slate_counts(slate.pk)
    now = now or timezone.now()
    return SlateProgress(
        slate=slate,
        counts=counts,
        verdict=threshold_verdict(slate, counts),
        signed=slate.signed_candidate_count,
        invited=slate.invited_candidate_count,
        needed=slate.threshold_min_signatures,
        time_left=max(slate.deadline - now, timedelta(0)),
    )


def overdue_open_slate_ids(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Slate.objects.filter(state=SlateState.OPEN, deadline__lte=now).values_list("id", flat=True)
    )


# --- Organizer and partner dashboards ---------------------------------------------------------


def organized_slates(user) -> QuerySet[Slate]:
    """The slates a user organizes, newest deadline last; staff see every slate."""
    if not user.is_authenticated:
        return Slate.objects.none()
    if user.is_staff:
        return Slate.objects.order_by("deadline", "id")
    return Slate.objects.filter(organizers=user).order_by("deadline", "id")


def administered_organizations(user) -> QuerySet[PartnerOrganization]:
    if not user.is_authenticated:
        return PartnerOrganization.objects.none()
    if user.is_staff:
        return PartnerOrganization.objects.all()
    return PartnerOrganization.objects.filter(admins=user)


@dataclass(frozen=True)
class GrowthDay:
    day: str
    money_cents: int
    volunteer_hours: int
    pledge_count: int
    cumulative_money_cents: int
    cumulative_pledges: int


def daily_growth(slate_id: int) -> list[GrowthDay]:
    """Live pledges by the day they were made, with running totals (from the 'day' shards)."""
    days = []
    money = pledges = 0
    for day, counts in slate_breakdown(slate_id, "day"):
        money += counts.money_cents
        pledges += counts.pledge_count
        days.append(
            GrowthDay(
                day=day,
                money_cents=counts.money_cents,
                volunteer_hours=counts.volunteer_hours,
                pledge_count=counts.pledge_count,
                cumulative_money_cents=money,
                cumulative_pledges=pledges,
            )
        )
    return days


def growth_chart_data(growth: list[GrowthDay]) -> dict:
    """The growth chart's series (static/js/growth_chart.js draws them)."""
    return {
        "days": [day.day for day in growth],
        "money_cents": [day.cumulative_money_cents for day in growth],
        "pledges": [day.pledge_count for day in growth],
    }


@dataclass(frozen=True)
class PartnerSlice:
    organization: PartnerOrganization | None  # None: pledges that came without a referral
    counts: BreakdownCounts

    @property
    def label(self) -> str:
        return self.organization.name if self.organization else "Direct (no partner link)"


def partner_breakdown(slate_id: int) -> list[PartnerSlice]:
    """The 'partner' shards with each key resolved to its organization (one query for all)."""
    slices = slate_breakdown(slate_id, "partner")
    ids = [int(key) for key, _ in slices if key.isdigit()]
    organizations = PartnerOrganization.objects.in_bulk(ids)
    return [
        PartnerSlice(
            organization=organizations.get(int(key)) if key.isdigit() else None, counts=counts
        )
        for key, counts in slices
    ]


def partner_code_slices(slate_id: int, organization: PartnerOrganization) -> list:
    """Each of the organization's sub-codes with what its links brought to this slate, from
    the maintained 'code' shards (codes that brought nothing yet show zeros), by label."""
    codes = list(organization.codes.all())
    counted = dict(slate_breakdown_for_keys(slate_id, "code", [str(code.pk) for code in codes]))
    return [(code, counted.get(str(code.pk), BreakdownCounts())) for code in codes]


def slate_breakdown_for_keys(slate_id: int, dimension: str, keys: list[str]):
    if not keys:
        return []
    rows = (
        SlateBreakdownShard.objects.filter(slate_id=slate_id, dimension=dimension, key__in=keys)
        .values("key")
        .annotate(**{name: Sum(name) for name in BREAKDOWN_FIELDS})
    )
    return [
        (row["key"], BreakdownCounts(**{name: row[name] or 0 for name in BREAKDOWN_FIELDS}))
        for row in rows
    ]


def partner_slice(slate_id: int, organization_id: int) -> BreakdownCounts:
    """What one organization's referral links brought to one slate: live pledges only."""
    return breakdown_slice(slate_id, "partner", str(organization_id))


def public_endorsements(slate_id: int) -> QuerySet[Endorsement]:
    """The endorsements that count: shown on the slate, trusted for referrals and event
    hosting, told of the slate's events. Anyone can register "Teamsters", so an organization's
    endorsements count only once staff have verified that it is who it says it is."""
    return Endorsement.objects.filter(slate_id=slate_id, organization__verified=True)


def public_endorsements_by(organization: PartnerOrganization) -> QuerySet[Endorsement]:
    """An organization's endorsements of public slates, once staff have verified it."""
    return Endorsement.objects.filter(
        organization=organization, organization__verified=True, slate__state__in=PUBLIC_STATES
    )


def endorsing_organizations(slate_id: int) -> QuerySet[PartnerOrganization]:
    """The verified organizations endorsing the slate (see ``public_endorsements``)."""
    return PartnerOrganization.objects.filter(verified=True, endorsements__slate_id=slate_id)


def partner_organizations_visible_to(user) -> QuerySet[PartnerOrganization]:
    """Verified organizations, plus unverified ones to their own admins (staff see all)."""
    if user.is_authenticated and user.is_staff:
        return PartnerOrganization.objects.all()
    query = Q(verified=True)
    if user.is_authenticated:
        query |= Q(admins=user)
    return PartnerOrganization.objects.filter(query).distinct()


def referral_totals(organization: PartnerOrganization) -> list[tuple[Slate, BreakdownCounts]]:
    """What an organization's referral links brought each slate it endorses."""
    slates = Slate.objects.filter(endorsements__organization=organization).order_by(
        "deadline", "id"
    )
    return [(slate, partner_slice(slate.pk, organization.pk)) for slate in slates]


# --- The directory ----------------------------------------------------------------------------

# What a visitor filters by, and the slate states each word covers.
DIRECTORY_STATUSES = {
    "open": (SlateState.OPEN,),
    "locked": (SlateState.LOCKED, SlateState.RELEASING),
    "released": (SlateState.RELEASED,),
    "expired": (SlateState.EXPIRED, SlateState.VOIDED),
}
WINS = (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED)


def slate_directory(*, status: str = "", state: str = "", office: str = "") -> QuerySet[Slate]:
    """Public slates, open first (soonest deadline first), then the wins (newest first), then
    the expired; narrowed to a status, and to slates inviting a candidate for that state or
    office. Unknown filter values are the caller's to refuse."""
    slates = public_slates()
    if status:
        slates = slates.filter(state__in=DIRECTORY_STATUSES[status])
    if state:
        slates = slates.filter(invitations__candidate__state=state)
    if office:
        slates = slates.filter(invitations__candidate__office=office)
    rank = Case(
        When(state=SlateState.OPEN, then=Value(0)),
        When(state__in=WINS, then=Value(1)),
        default=Value(2),
    )
    return (
        slates.distinct()
        .annotate(directory_rank=rank)
        .order_by("directory_rank", F("locked_at").desc(nulls_last=True), "deadline", "id")
    )


def recent_wins(limit: int = 6) -> QuerySet[Slate]:
    """Slates whose candidates coordinated, newest lock first: the home page's proof."""
    return Slate.objects.filter(state__in=WINS).order_by("-locked_at", "-id")[:limit]
