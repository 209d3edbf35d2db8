"""Volunteer figures: hours pledged, scheduled and delivered, for a volunteer, a campaign,
a partner organization and a slate, and the organizers' summary of them.

Figures are in whole hours pledged (as on the pledge) and minutes scheduled or delivered
(shifts may be ninety minutes long); ``VolunteerHours`` carries both.
"""

from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Sum

from candidates.models import Candidate
from pledges.states import PledgeState
from slate.models import PartnerOrganization, Slate
from slate.selectors import slate_counts
from slate.totals import Counts

from .models import ShiftSignup, SignupStatus, VolunteerMatch
from .selectors import live_volunteer_pledges, signed_candidates


@dataclass(frozen=True)
class VolunteerHours:
    pledged_hours: int = 0
    scheduled_minutes: int = 0
    delivered_minutes: int = 0
    volunteers: int = 0

    @property
    def scheduled_hours(self) -> float:
        return round(self.scheduled_minutes / 60, 1)

    @property
    def delivered_hours(self) -> float:
        return round(self.delivered_minutes / 60, 1)

    @property
    def delivered_percent(self) -> int:
        if not self.pledged_hours:
            return 0
        return round(100 * self.delivered_minutes / (60 * self.pledged_hours))


def _shift_minutes():
    return F("shift__ends_at") - F("shift__starts_at")


def _signup_minutes(signups: QuerySet[ShiftSignup]) -> tuple[int, int]:
    """(scheduled, delivered) minutes: scheduled is confirmed sign-ups not yet marked."""
    scheduled = 0
    rows = signups.filter(status=SignupStatus.CONFIRMED, attended__isnull=True).aggregate(
        total=Sum(_shift_minutes())
    )
    if rows["total"]:
        scheduled = int(rows["total"].total_seconds() // 60)
    delivered = signups.filter(attended=True).aggregate(total=Sum("delivered_minutes"))["total"]
    return scheduled, delivered or 0


def hours_for_volunteer(user, slate: Slate | None = None) -> VolunteerHours:
    pledges = live_volunteer_pledges().filter(supporter=user)
    signups = ShiftSignup.objects.filter(volunteer=user)
    if slate is not None:
        pledges = pledges.filter(slate=slate)
        signups = signups.filter(shift__event__slate=slate)
    scheduled, delivered = _signup_minutes(signups)
    return VolunteerHours(
        pledged_hours=pledges.aggregate(total=Sum("hours"))["total"] or 0,
        scheduled_minutes=scheduled,
        delivered_minutes=delivered,
        volunteers=1,
    )


def hours_for_candidate(candidate: Candidate, slate: Slate) -> VolunteerHours:
    """Pledged: hours of the volunteers matched to this campaign. Scheduled and delivered:
    sign-ups on the campaign's own events."""
    matched = VolunteerMatch.objects.filter(
        slate=slate, candidate=candidate, pledge__state=PledgeState.COMMITTED
    ).aggregate(hours=Sum("pledge__hours"), volunteers=Count("id"))
    scheduled, delivered = _signup_minutes(
        ShiftSignup.objects.filter(shift__event__slate=slate, shift__event__candidate=candidate)
    )
    return VolunteerHours(
        pledged_hours=matched["hours"] or 0,
        scheduled_minutes=scheduled,
        delivered_minutes=delivered,
        volunteers=matched["volunteers"],
    )


def hours_for_slate(slate: Slate, counts: Counts | None = None) -> VolunteerHours:
    """Pledged hours from the slate's maintained totals (``counts``, when the caller has read
    them); time from its shifts' sign-ups."""
    counts = counts if counts is not None else slate_counts(slate.pk)
    scheduled, delivered = _signup_minutes(ShiftSignup.objects.filter(shift__event__slate=slate))
    return VolunteerHours(
        pledged_hours=counts.volunteer_hours,
        scheduled_minutes=scheduled,
        delivered_minutes=delivered,
        volunteers=counts.volunteer_pledge_count,
    )


def hours_for_partner(organization: PartnerOrganization, slate: Slate) -> VolunteerHours:
    """The volunteers the organization brought (referral credit on their pledge)."""
    pledges = live_volunteer_pledges().filter(slate=slate, referred_by=organization)
    totals = pledges.aggregate(hours=Sum("hours"), volunteers=Count("id"))
    scheduled, delivered = _signup_minutes(
        ShiftSignup.objects.filter(shift__event__slate=slate, pledge__referred_by=organization)
    )
    return VolunteerHours(
        pledged_hours=totals["hours"] or 0,
        scheduled_minutes=scheduled,
        delivered_minutes=delivered,
        volunteers=totals["volunteers"],
    )


@dataclass(frozen=True)
class SummaryRow:
    label: str
    hours: VolunteerHours
    kind: str  # "candidate" or "partner"
    key: int


@dataclass(frozen=True)
class SlateVolunteerSummary:
    slate: Slate
    total: VolunteerHours
    candidates: list[SummaryRow]
    partners: list[SummaryRow]
    unmatched: int


def slate_volunteer_summary(slate: Slate) -> SlateVolunteerSummary:
    """The organizers' figures: the slate, each signed campaign, each endorsing partner."""
    candidates = [
        SummaryRow(c.full_name, hours_for_candidate(c, slate), "candidate", c.pk)
        for c in signed_candidates(slate)
    ]
    partners = [
        SummaryRow(o.name, hours_for_partner(o, slate), "partner", o.pk)
        for o in PartnerOrganization.objects.filter(endorsements__slate=slate).order_by("name")
    ]
    return SlateVolunteerSummary(
        slate=slate,
        total=hours_for_slate(slate),
        candidates=candidates,
        partners=partners,
        unmatched=VolunteerMatch.objects.filter(slate=slate, candidate__isnull=True).count(),
    )
