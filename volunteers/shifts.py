"""Writes about events, shifts, sign-ups (with a waitlist) and attendance.

Every sign-up change takes the shift's row lock first, so the confirmed count kept on the
shift is exact and never passes its capacity (a check constraint stands behind it).
"""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import Candidate
from candidates.selectors import active_invitations
from pledges.models import VolunteerActivity
from slate import geo
from slate.models import PartnerOrganization, Slate
from slate.queue import enqueue_named_on_commit
from slate.states import SlateState
from slate.text import clean_text

from . import selectors
from .errors import VolunteerError
from .models import Shift, ShiftSignup, SignupStatus, VolunteerEvent, WorkMode
from .services import check_zip

MAX_CAPACITY = 1000
MAX_SHIFT_HOURS = 24


def _require_plannable(slate: Slate) -> None:
    """Campaigns may plan events while the slate is open; volunteers sign up after the lock."""
    if slate.state != SlateState.OPEN and not selectors.is_locked(slate):
        raise VolunteerError("slate_closed", "This slate takes no volunteer events.", field="slate")


def _require_locked(slate: Slate) -> None:
    if not selectors.is_locked(slate):
        raise VolunteerError(
            "slate_not_locked",
            "Sign-ups open once the slate has locked.",
            field="slate",
        )


@transaction.atomic
def create_event(
    *,
    slate: Slate,
    actor,
    title: str,
    description: str = "",
    candidate: Candidate | None = None,
    organization: PartnerOrganization | None = None,
) -> VolunteerEvent:
    if candidate is not None and organization is not None:
        raise VolunteerError("invalid_host", "An event has one host.", field="host")
    slate = Slate.objects.get(pk=slate.pk)  # the caller's copy may predate the lock
    if not selectors.can_run_event(actor, slate, candidate=candidate, organization=organization):
        raise VolunteerError(
            "forbidden", "You may not host events for that campaign.", field="host"
        )
    _require_plannable(slate)
    return VolunteerEvent.objects.create(
        slate=slate,
        candidate=candidate,
        organization=organization,
        title=clean_text(
            title, field="title", error=VolunteerError, max_length=200, required=True,
            required_message="Give the event a title.",
        ),
        description=clean_text(
            description, field="description", error=VolunteerError, max_length=5000
        ),
        created_by=actor,
    )  # fmt: skip


def can_manage(actor, event: VolunteerEvent) -> bool:
    return selectors.can_run_event(
        actor, event.slate, candidate=event.candidate, organization=event.organization
    )


def _require_manager(actor, event: VolunteerEvent) -> None:
    if not can_manage(actor, event):
        raise VolunteerError("forbidden", "Only the event's hosts and the organizers may do that.")


@transaction.atomic
def add_shift(
    *,
    event: VolunteerEvent,
    actor,
    starts_at: datetime,
    ends_at: datetime,
    activity: str,
    mode: str,
    capacity: int,
    location: str = "",
    zip_code: str = "",
    call_link: str = "",
    notes: str = "",
    time_zone: str = "",
    now: datetime | None = None,
) -> Shift:
    """Times without a zone (as typed on the form) are read in the shift's zone: the ZIP
    code's for an in-person shift, the host's for a remote one unless ``time_zone`` names
    another (``slate.geo.TIME_ZONE_CHOICES``)."""
    _require_manager(actor, event)
    _require_plannable(Slate.objects.get(pk=event.slate_id))
    now = now or timezone.now()
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise VolunteerError("invalid_time", "Enter a date and time.", field="starts_at")
    zone_name = shift_time_zone(event, mode=mode, zip_code=zip_code, time_zone=time_zone)
    starts_at = _in_zone(starts_at, zone_name, field="starts_at")
    ends_at = _in_zone(ends_at, zone_name, field="ends_at")
    if starts_at <= now:
        raise VolunteerError(
            "shift_in_past", "A shift must start in the future.", field="starts_at"
        )
    if ends_at <= starts_at:
        raise VolunteerError("invalid_end", "A shift must end after it starts.", field="ends_at")
    if (ends_at - starts_at).total_seconds() > MAX_SHIFT_HOURS * 3600:
        raise VolunteerError(
            "shift_too_long", f"A shift lasts at most {MAX_SHIFT_HOURS} hours.", field="ends_at"
        )
    if activity not in VolunteerActivity.values:
        raise VolunteerError("invalid_activity", "Choose an activity.", field="activity")
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not 1 <= capacity <= MAX_CAPACITY
    ):
        raise VolunteerError(
            "invalid_capacity", f"Capacity is between 1 and {MAX_CAPACITY}.", field="capacity"
        )
    location = clean_text(location, field="location", error=VolunteerError, max_length=300)
    call_link = clean_text(call_link, field="call_link", error=VolunteerError, max_length=500)
    notes = clean_text(notes, field="notes", error=VolunteerError, max_length=5000)
    state = ""
    if mode == WorkMode.IN_PERSON:
        if not location:
            raise VolunteerError(
                "location_required", "Give the address of an in-person shift.", field="location"
            )
        state = check_zip(zip_code).state
        zip_code = zip_code.strip()[:5]
        call_link = ""
    elif mode == WorkMode.REMOTE:
        if not call_link.startswith(("https://", "http://")):
            raise VolunteerError(
                "call_link_required",
                "Give the call link (https://…) of a remote shift.",
                field="call_link",
            )
        location, zip_code = "", ""
    else:
        raise VolunteerError("invalid_mode", "Choose in person or remote.", field="mode")
    return Shift.objects.create(
        event=event, starts_at=starts_at, ends_at=ends_at, activity=activity, mode=mode,
        capacity=capacity, location=location, zip_code=zip_code, state=state,
        call_link=call_link, notes=notes, time_zone=zone_name,
    )  # fmt: skip


def host_time_zone(event: VolunteerEvent) -> str:
    """A host's zone: a campaign's is its state's; the slate's or a partner's is the one most
    of the slate's invited candidates are in (Eastern when there are none)."""
    if event.candidate_id:
        return geo.state_time_zone(event.candidate.state) or geo.EASTERN
    states = active_invitations(event.slate).values_list("candidate__state", flat=True)
    zones = Counter(geo.state_time_zone(state) for state in states)
    zones.pop(None, None)
    return min(zones, key=lambda zone: (-zones[zone], zone)) if zones else geo.EASTERN


def shift_time_zone(event: VolunteerEvent, *, mode: str, zip_code: str, time_zone: str) -> str:
    if mode == WorkMode.IN_PERSON:
        return geo.place_time_zone(check_zip(zip_code))
    if time_zone:
        if time_zone not in dict(geo.TIME_ZONE_CHOICES):
            raise VolunteerError("invalid_time_zone", "Choose a time zone.", field="time_zone")
        return time_zone
    return host_time_zone(event)


def _in_zone(moment: datetime, zone_name: str, *, field: str) -> datetime:
    """A time typed without a zone, read in ``zone_name``; one the clocks skip (spring
    forward) is refused rather than moved."""
    if timezone.is_aware(moment):
        return moment
    zone = ZoneInfo(zone_name)
    aware = moment.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise VolunteerError(
            "nonexistent_time",
            f"{moment:%H:%M} does not exist on {moment:%B %-d} in {zone_name}: the clocks "
            "skip that hour.",
            field=field,
        )
    return aware


def _lock_shift(shift_id: int) -> Shift:
    return (
        Shift.objects.select_for_update(of=("self",))
        .select_related("event__slate")
        .get(pk=shift_id)
    )


@transaction.atomic
def sign_up(*, shift: Shift, volunteer, now: datetime | None = None) -> ShiftSignup:
    """Confirmed if a place is free, else on the waitlist. Signing up twice is refused."""
    now = now or timezone.now()
    if not volunteer.is_authenticated:
        raise VolunteerError("forbidden", "Log in to sign up.")
    shift = _lock_shift(shift.pk)
    slate = shift.event.slate
    _require_locked(slate)
    if shift.starts_at <= now:
        raise VolunteerError("shift_started", "This shift has already started.", field="shift")
    pledge = selectors.volunteer_pledge_for(volunteer, slate)
    if pledge is None:
        raise VolunteerError(
            "no_pledge", "Only volunteers who pledged hours to this slate can sign up.",
            field="shift",
        )  # fmt: skip
    if (
        ShiftSignup.objects.filter(shift=shift, volunteer=volunteer)
        .exclude(status=SignupStatus.CANCELLED)
        .exists()
    ):
        raise VolunteerError(
            "already_signed_up", "You are already signed up for this shift.", field="shift"
        )
    confirmed = shift.confirmed_count < shift.capacity
    try:
        with transaction.atomic():
            signup = ShiftSignup.objects.create(
                shift=shift, pledge=pledge, volunteer=volunteer,
                status=SignupStatus.CONFIRMED if confirmed else SignupStatus.WAITLISTED,
                queued_at=now, confirmed_at=now if confirmed else None,
            )  # fmt: skip
    except IntegrityError:
        raise VolunteerError(
            "already_signed_up", "You are already signed up for this shift.", field="shift"
        ) from None
    if confirmed:
        shift.confirmed_count += 1
        shift.save(update_fields=["confirmed_count"])
    return signup


@transaction.atomic
def cancel_signup(*, signup: ShiftSignup, actor, now: datetime | None = None) -> ShiftSignup:
    """The volunteer (or the event's hosts) cancels; the first on the waitlist takes the place
    and is emailed."""
    now = now or timezone.now()
    shift = _lock_shift(signup.shift_id)
    signup = ShiftSignup.objects.select_for_update().get(pk=signup.pk)
    if not actor.is_authenticated or (
        actor.pk != signup.volunteer_id and not can_manage(actor, shift.event)
    ):
        raise VolunteerError("forbidden", "You can cancel only your own sign-up.")
    if signup.status == SignupStatus.CANCELLED:
        return signup
    if shift.starts_at <= now:
        raise VolunteerError("shift_started", "This shift has already started.", field="shift")
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    if was_confirmed:
        shift.confirmed_count -= 1
        promoted = (
            ShiftSignup.objects.select_for_update()
            .filter(shift=shift, status=SignupStatus.WAITLISTED)
            .order_by("queued_at", "id")
            .first()
        )
        if promoted is not None:
            promoted.status = SignupStatus.CONFIRMED
            promoted.confirmed_at = now
            promoted.save(update_fields=["status", "confirmed_at"])
            shift.confirmed_count += 1
            enqueue_named_on_commit("volunteers.tasks.notify_promoted", promoted.pk)
        shift.save(update_fields=["confirmed_count"])
    return signup


@transaction.atomic
def record_attendance(
    *,
    signup: ShiftSignup,
    actor,
    attended: bool,
    delivered_minutes: int | None = None,
    now: datetime | None = None,
) -> ShiftSignup:
    """The event's hosts mark a confirmed volunteer present (with the minutes they gave,
    by default the shift's length) or absent. Can be corrected later."""
    now = now or timezone.now()
    shift = _lock_shift(signup.shift_id)
    if not can_manage(actor, shift.event):
        raise VolunteerError("forbidden", "Only the event's hosts and the organizers may do that.")
    signup = ShiftSignup.objects.select_for_update().get(pk=signup.pk)
    if signup.status != SignupStatus.CONFIRMED:
        raise VolunteerError(
            "not_confirmed", "Only confirmed volunteers can be marked.", field="attended"
        )
    if shift.starts_at > now:
        raise VolunteerError(
            "not_started", "Attendance can be marked once the shift has started.",
            field="attended",
        )  # fmt: skip
    if attended:
        if delivered_minutes is None:
            delivered_minutes = shift.duration_minutes
        if (
            isinstance(delivered_minutes, bool)
            or not isinstance(delivered_minutes, int)
            or not 1 <= delivered_minutes <= 24 * 60
        ):
            raise VolunteerError(
                "invalid_minutes",
                "Delivered time must be between 1 minute and 24 hours.",
                field="delivered_minutes",
            )
    else:
        delivered_minutes = 0
    signup.attended = bool(attended)
    signup.delivered_minutes = delivered_minutes
    signup.attendance_marked_by = actor
    signup.attendance_marked_at = now
    signup.save(
        update_fields=[
            "attended",
            "delivered_minutes",
            "attendance_marked_by",
            "attendance_marked_at",
        ]
    )
    return signup
