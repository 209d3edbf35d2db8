"""Emails to volunteers, and the calendar file (.ics) that goes with a shift.

The one place that sends volunteer email; callers decide when (see reminders.py for how
each reminder goes out exactly once).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from slate import mail
from slate.links import public_url

from .models import Shift, ShiftSignup, SignupStatus, VolunteerMatch


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out, current = [], line
    while len(current.encode()) > 75:
        cut = 75
        while len(current[:cut].encode()) > 75:
            cut -= 1
        out.append(current[:cut])
        current = " " + current[cut:]
    out.append(current)
    return "\r\n".join(out)


def _utc_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _vtimezone(zone_name: str, year: int) -> list[str]:
    """The VTIMEZONE that a TZID names (RFC 5545 3.6.5). Every zone a shift can have
    (slate.geo) is a US one: with daylight saving time, on the US rule (second Sunday of
    March to first Sunday of November, since 2007); or without it."""
    zone = ZoneInfo(zone_name)
    winter = datetime(year, 1, 15, 12, tzinfo=zone)
    summer = datetime(year, 7, 15, 12, tzinfo=zone)
    standard, daylight = winter.utcoffset(), summer.utcoffset()
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone_name}"]
    if standard == daylight:
        lines += [
            "BEGIN:STANDARD", "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_utc_offset(standard)}", f"TZOFFSETTO:{_utc_offset(standard)}",
            f"TZNAME:{winter.tzname()}", "END:STANDARD",
        ]  # fmt: skip
    else:
        lines += [
            "BEGIN:DAYLIGHT", "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
            f"TZOFFSETFROM:{_utc_offset(standard)}", f"TZOFFSETTO:{_utc_offset(daylight)}",
            f"TZNAME:{summer.tzname()}", "END:DAYLIGHT",
            "BEGIN:STANDARD", "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
            f"TZOFFSETFROM:{_utc_offset(daylight)}", f"TZOFFSETTO:{_utc_offset(standard)}",
            f"TZNAME:{winter.tzname()}", "END:STANDARD",
        ]  # fmt: skip
    return [*lines, "END:VTIMEZONE"]


def _ics_times(shift: Shift) -> tuple[list[str], list[str]]:
    """The VTIMEZONE lines and DTSTART/DTEND in the shift's own zone (UTC for older shifts
    made before shifts had one)."""
    if shift.time_zone in ("", "UTC"):
        return [], [f"DTSTART:{_ics_time(shift.starts_at)}", f"DTEND:{_ics_time(shift.ends_at)}"]
    zone = ZoneInfo(shift.time_zone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return _vtimezone(shift.time_zone, shift.starts_at.astimezone(zone).year), [
        f"DTSTART;TZID={shift.time_zone}:{local(shift.starts_at)}",
        f"DTEND;TZID={shift.time_zone}:{local(shift.ends_at)}",
    ]


def shift_ics(shift: Shift, *, now: datetime | None = None) -> str:
    """A one-event calendar for the shift; its UID is stable, so calendars update in place.
    Its times carry the shift's time zone (TZID), so calendars show the place's local time."""
    event = shift.event
    where = shift.location if shift.mode == "in_person" else shift.call_link
    description = f"{shift.get_activity_display()} with {event.host_label}."
    if shift.notes:
        description += f"\n{shift.notes}"
    vtimezone, times = _ics_times(shift)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Slate//Volunteer shifts//EN",
        "METHOD:PUBLISH",
        *vtimezone,
        "BEGIN:VEVENT",
        f"UID:shift-{shift.pk}@slate",
        f"DTSTAMP:{_ics_time(now or timezone.now())}",
        *times,
        f"SUMMARY:{_ics_text(f'{event.title}: {shift.get_activity_display()}')}",
        f"LOCATION:{_ics_text(where)}",
        f"DESCRIPTION:{_ics_text(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _send(
    subject: str,
    template: str,
    context: dict,
    to: str,
    shift: Shift | None = None,
    *,
    slate=None,
    category: str = mail.Category.TRANSACTIONAL,
    reason: str = "",
) -> bool:
    attachments = ()
    if shift is not None:
        attachments = ((f"shift-{shift.pk}.ics", shift_ics(shift), "text/calendar"),)
    return mail.send(
        mail.Email(
            to=to,
            subject=subject,
            template=template,
            context={**context, "home_url": public_url("/volunteer/")},
            category=category,
            slate=slate,
            reason=reason or "you pledged volunteer hours or signed up for a shift",
            attachments=attachments,
        )
    )


def notify_match(*, match_id: int) -> bool:
    """Tell the volunteer where they were matched, once (the row lock and ``notified_at``)."""
    with transaction.atomic():
        match = (
            VolunteerMatch.objects.select_for_update(of=("self",))
            .select_related("pledge__supporter", "candidate", "slate")
            .filter(pk=match_id, notified_at__isnull=True)
            .first()
        )
        if match is None:
            return False
        slate = match.slate
        subject = (
            f"{slate.name} locked: you are matched with {match.candidate.full_name}"
            if match.candidate
            else f"{slate.name} locked: choose where your hours go"
        )
        _send(
            subject,
            "volunteers/email/matched.txt",
            {"match": match},
            match.pledge.supporter.email,
            slate=slate,
            reason=f"you pledged volunteer hours to {slate.name}",
        )
        match.notified_at = timezone.now()
        match.save(update_fields=["notified_at"])
    return True


def notify_promoted(*, signup_id: int) -> bool:
    signup = (
        ShiftSignup.objects.select_related(
            "shift__event__candidate", "shift__event__organization", "volunteer"
        )
        .filter(pk=signup_id, status=SignupStatus.CONFIRMED)
        .first()
    )
    if signup is None:
        return False
    return _send(
        "A place opened up: you are confirmed for your shift",
        "volunteers/email/promoted.txt",
        {"signup": signup, "shift": signup.shift},
        signup.volunteer.email,
        shift=signup.shift,
    )


def send_reminder(*, signup: ShiftSignup, kind: str) -> bool:
    subject = (
        "Tomorrow: your volunteer shift" if kind == "day" else "In an hour: your volunteer shift"
    )
    return _send(
        subject,
        "volunteers/email/reminder.txt",
        {"signup": signup, "shift": signup.shift, "kind": kind},
        signup.volunteer.email,
        shift=signup.shift,
        category=mail.Category.VOLUNTEER_REMINDERS,
        reason="you signed up for this volunteer shift",
    )
