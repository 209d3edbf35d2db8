"""Reads about volunteers for pages, the organizer dashboard and the API: campaigns, what
waits before the lock and who was matched after it, the volunteer's own matches and shifts,
events and rosters. The hours figures are in ``volunteers.hours``.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from candidates.models import Candidate
from candidates.selectors import valid_signatures
from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate import geo
from slate.models import PartnerOrganization, Slate
from slate.selectors import (
    endorsing_organizations,
    is_organizer,
    slate_breakdown,
    slate_counts,
    threshold_verdict,
)
from slate.states import SlateState

from .matching import IN_PERSON_RADIUS_MILES, Campaign
from .models import (
    CampaignStaff,
    Shift,
    ShiftSignup,
    SignupStatus,
    VolunteerEvent,
    VolunteerMatch,
    WorkMode,
)

LOCKED_STATES = (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED)


def is_locked(slate: Slate) -> bool:
    return slate.state in LOCKED_STATES


def live_volunteer_pledges() -> QuerySet[Pledge]:
    """Volunteer pledges that count: committed ones."""
    return Pledge.objects.filter(kind=PledgeKind.VOLUNTEER, state=PledgeState.COMMITTED)


# --- Campaigns --------------------------------------------------------------------------------


def campaign_place(candidate: Candidate) -> tuple[geo.Place, str]:
    """Where a campaign takes volunteers: its office's ZIP code if set, else its state's centre."""
    office = getattr(candidate, "volunteer_office", None)
    if office is not None:
        place = geo.zip_place(office.zip_code)
        if place is not None:
            return place, office.zip_code[:5]
    centre = geo.state_centre(candidate.state)
    if centre is None:  # a territory without ZIP codes in the table: place it nowhere near
        centre = geo.Place(candidate.state, 0.0, 0.0)
    return centre, ""


def signed_candidates(slate: Slate) -> QuerySet[Candidate]:
    ids = valid_signatures(slate).values_list("candidate_id", flat=True)
    return Candidate.objects.filter(pk__in=ids).select_related("volunteer_office").order_by("id")


def signed_campaigns(slate: Slate) -> list[Campaign]:
    campaigns = []
    for candidate in signed_candidates(slate):
        place, office_zip = campaign_place(candidate)
        campaigns.append(
            Campaign(candidate.pk, candidate.full_name, candidate.state, place, office_zip)
        )
    return campaigns


def campaigns_run_by(user) -> list[Candidate]:
    """Candidates whose volunteer work this user may run: their own profile, or as staff."""
    if not user.is_authenticated:
        return []
    ids = set(CampaignStaff.objects.filter(user=user).values_list("candidate_id", flat=True))
    ids |= set(Candidate.objects.filter(user=user).values_list("id", flat=True))
    return list(Candidate.objects.filter(pk__in=ids).order_by("full_name"))


def works_for(user, candidate: Candidate) -> bool:
    return any(c.pk == candidate.pk for c in campaigns_run_by(user))


def can_run_event(
    user, slate: Slate, *, candidate: Candidate | None, organization: PartnerOrganization | None
) -> bool:
    """Organizers (and staff) for anything on their slate; a signed campaign's own people for
    its events; an endorsing partner organization's admins for its events."""
    if not user.is_authenticated:
        return False
    if is_organizer(user, slate):
        return True
    if candidate is not None:
        signed = valid_signatures(slate).filter(candidate=candidate).exists()
        return signed and works_for(user, candidate)
    if organization is not None:
        return (
            endorsing_organizations(slate.pk).filter(pk=organization.pk).exists()
            and organization.admins.filter(pk=user.pk).exists()
        )
    return False


def event_hosts_for(user, slate: Slate) -> dict:
    """What this user may host on this slate: candidates, organizations, and slate-wide."""
    signed_ids = set(valid_signatures(slate).values_list("candidate_id", flat=True))
    organizer = is_organizer(user, slate)
    if organizer:
        candidates = list(Candidate.objects.filter(pk__in=signed_ids).order_by("full_name"))
        organizations = list(endorsing_organizations(slate.pk))
    else:
        candidates = [c for c in campaigns_run_by(user) if c.pk in signed_ids]
        organizations = (
            list(endorsing_organizations(slate.pk).filter(admins=user))
            if user.is_authenticated
            else []
        )
    return {"slate_wide": organizer, "candidates": candidates, "organizations": organizations}


# --- Before the lock: what waits, and where ---------------------------------------------------


@dataclass(frozen=True)
class WaitingHours:
    pledge: Pledge
    signatures_needed: int


def waiting_pledges(user) -> list[WaitingHours]:
    """ "Your N hours are waiting for K more signatures", for each open volunteer pledge."""
    rows = []
    for pledge in (
        live_volunteer_pledges()
        .filter(supporter=user, slate__state=SlateState.OPEN)
        .select_related("slate")
    ):
        rows.append(WaitingHours(pledge, threshold_verdict(pledge.slate).signatures_needed))
    return rows


@dataclass(frozen=True)
class HoursNear:
    state: str
    hours_in_state: int
    pledges_in_state: int
    hours_everywhere: int


def pledged_hours_near(candidate: Candidate, slate: Slate) -> HoursNear:
    """What a campaign may see before the lock: totals for its state, never who."""
    in_state = dict(slate_breakdown(slate.pk, "state")).get(candidate.state)
    return HoursNear(
        state=candidate.state,
        hours_in_state=in_state.volunteer_hours if in_state else 0,
        pledges_in_state=in_state.pledge_count if in_state else 0,
        hours_everywhere=slate_counts(slate.pk).volunteer_hours,
    )


# --- After the lock: who, for the campaign ----------------------------------------------------


@dataclass(frozen=True)
class MatchedVolunteer:
    """A matched volunteer as their campaign sees them. Contact fields are None unless the
    volunteer consented; before the lock nobody is listed at all."""

    match_id: int
    hours: int
    mode: str
    zip3: str
    activities: list[str]
    languages: list[str]
    weekly_slots: list[str]
    name: str | None
    email: str | None
    phone: str | None

    @property
    def has_contact(self) -> bool:
        return self.email is not None


def matched_volunteers(candidate: Candidate, slate: Slate, viewer) -> list[MatchedVolunteer]:
    """The campaign's matched volunteers, for someone allowed to see them (the campaign's
    people or the slate's organizers); an empty list for anyone else or before the lock."""
    if not is_locked(slate) or not (works_for(viewer, candidate) or is_organizer(viewer, slate)):
        return []
    matches = (
        VolunteerMatch.objects.filter(
            slate=slate, candidate=candidate, pledge__state=PledgeState.COMMITTED
        )
        .select_related("pledge__supporter", "pledge__volunteer_details")
        .order_by("pledge_id")
    )
    rows = []
    for match in matches:
        pledge = match.pledge
        details = getattr(pledge, "volunteer_details", None)
        consent = bool(details and details.share_contact)
        rows.append(
            MatchedVolunteer(
                match_id=match.pk,
                hours=pledge.hours,
                mode=match.mode,
                zip3=pledge.zip_code[:3],
                activities=list(pledge.activities),
                languages=list(details.languages) if details else [],
                weekly_slots=list(details.weekly_slots) if details else [],
                name=(details.display_name or pledge.supporter.get_full_name() or "Volunteer")
                if consent
                else None,
                email=pledge.supporter.email if consent else None,
                phone=(details.phone or "") if consent else None,
            )
        )
    return rows


# --- The volunteer's own view -----------------------------------------------------------------


def matches_of(user) -> QuerySet[VolunteerMatch]:
    return (
        VolunteerMatch.objects.filter(pledge__supporter=user, pledge__state=PledgeState.COMMITTED)
        .select_related("candidate", "slate", "pledge")
        .order_by("-created_at")
    )


def upcoming_signups(user, now=None) -> QuerySet[ShiftSignup]:
    now = now or timezone.now()
    return (
        ShiftSignup.objects.filter(volunteer=user, shift__ends_at__gt=now)
        .exclude(status=SignupStatus.CANCELLED)
        .select_related(
            "shift__event__candidate", "shift__event__organization", "shift__event__slate"
        )
        .order_by("shift__starts_at")
    )


def volunteer_pledge_for(user, slate: Slate) -> Pledge | None:
    """The volunteer's live pledge on a slate (their largest, if several)."""
    return (
        live_volunteer_pledges()
        .filter(supporter=user, slate=slate)
        .order_by("-hours", "id")
        .first()
    )


@dataclass(frozen=True)
class ShiftListing:
    shift: Shift
    miles: int | None
    signup: ShiftSignup | None


def shifts_for_volunteer(user, slate: Slate, *, mode: str = "near", now=None) -> list[ShiftListing]:
    """Upcoming shifts of a slate: ``near`` (in person, in the volunteer's state or within
    reach of their ZIP, nearest first) or ``remote`` (soonest first)."""
    now = now or timezone.now()
    pledge = volunteer_pledge_for(user, slate)
    place = geo.zip_place(pledge.zip_code) if pledge else None
    shifts = (
        Shift.objects.filter(event__slate=slate, starts_at__gt=now)
        .select_related("event__candidate", "event__organization", "event__slate")
        .order_by("starts_at", "id")
    )
    mine = (
        {
            s.shift_id: s
            for s in ShiftSignup.objects.filter(volunteer=user, shift__in=shifts).exclude(
                status=SignupStatus.CANCELLED
            )
        }
        if user.is_authenticated
        else {}
    )
    listings = []
    if mode == WorkMode.REMOTE:
        for shift in shifts.filter(mode=WorkMode.REMOTE):
            listings.append(ShiftListing(shift, None, mine.get(shift.pk)))
        return listings
    for shift in shifts.filter(mode=WorkMode.IN_PERSON):
        shift_place = geo.zip_place(shift.zip_code)
        miles = geo.distance_miles(place, shift_place) if place and shift_place else None
        near = place is None or (
            shift_place is not None
            and (shift_place.state == place.state or (miles or 0) <= IN_PERSON_RADIUS_MILES)
        )
        if near:
            listings.append(ShiftListing(shift, miles, mine.get(shift.pk)))
    return sorted(
        listings,
        key=lambda row: (
            row.miles if row.miles is not None else 10**6,
            row.shift.starts_at,
            row.shift.pk,
        ),
    )


def organization_events(organization: PartnerOrganization, slate: Slate, now=None) -> list:
    """The organization's events for this slate with their shifts still to come, soonest
    first (for its public page: its own events before everything else)."""
    now = now or timezone.now()
    events = (
        VolunteerEvent.objects.filter(organization=organization, slate=slate)
        .prefetch_related(
            Prefetch(
                "shifts",
                queryset=Shift.objects.filter(starts_at__gt=now).order_by("starts_at", "id"),
                to_attr="upcoming",
            )
        )
        .order_by("created_at", "id")
    )
    listed = [event for event in events if event.upcoming]
    return sorted(listed, key=lambda event: event.upcoming[0].starts_at)


def events_of(slate: Slate) -> QuerySet[VolunteerEvent]:
    return (
        VolunteerEvent.objects.filter(slate=slate)
        .select_related("candidate", "organization")
        .annotate(
            shift_count=Count("shifts"),
            upcoming_shift_count=Count("shifts", filter=Q(shifts__starts_at__gt=timezone.now())),
        )
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class RosterEntry:
    """A sign-up as the shift's hosts see it: contact details only where the volunteer agreed
    to share them with this campaign (the one they are matched to), or for the organizers."""

    signup: ShiftSignup
    name: str | None
    email: str | None
    phone: str | None


def roster(shift: Shift, viewer) -> list[RosterEntry]:
    signups = (
        shift.signups.exclude(status=SignupStatus.CANCELLED)
        .select_related("volunteer", "pledge__volunteer_details", "pledge__volunteer_match")
        .order_by("status", "queued_at", "id")
    )
    organizer = is_organizer(viewer, shift.event.slate)
    entries = []
    for signup in signups:
        details = getattr(signup.pledge, "volunteer_details", None)
        match = getattr(signup.pledge, "volunteer_match", None)
        own_campaign = (
            shift.event.candidate_id is not None
            and match is not None
            and match.candidate_id == shift.event.candidate_id
        )
        visible = bool(details and details.share_contact and (organizer or own_campaign))
        entries.append(
            RosterEntry(
                signup=signup,
                name=(details.display_name or signup.volunteer.email) if visible else None,
                email=signup.volunteer.email if visible else None,
                phone=(details.phone or "") if visible else None,
            )
        )
    return entries


def reminder_window(kind: str) -> timedelta:
    return timedelta(days=1) if kind == "day" else timedelta(hours=1)
