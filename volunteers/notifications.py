"""Emails to volunteers, and the calendar file (.ics) that goes with a shift.

The one place that sends volunteer email; callers decide when (see reminders.py for how
each reminder goes out exactly once).
"""

from datetime import UTC, datetime

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


def shift_ics(shift: Shift, *, now: datetime | None = None) -> str:
    """A one-event calendar for the shift; its UID is stable, so calendars update in place."""
    event = shift.event
    where = shift.location if shift.mode == "in_person" else shift.call_link
    description = f"{shift.get_activity_display()} with {event.host_label}."
    if shift.notes:
        description += f"\n{shift.notes}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Slate//Volunteer shifts//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:shift-{shift.pk}@slate",
        f"DTSTAMP:{_ics_time(now or timezone.now())}",
        f"DTSTART:{_ics_time(shift.starts_at)}",
        f"DTEND:{_ics_time(shift.ends_at)}",
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
