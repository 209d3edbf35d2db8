"""Shift reminders, a day and an hour before: each confirmed sign-up gets each at most once.

The ``ShiftReminder`` row is inserted, the email sent, and both commit together; a second run
(or one running at the same moment) finds the row, or waits on its unique index and then
finds it, and sends nothing. A failed send rolls the row back, so the next run tries again.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import notifications
from .models import ReminderKind, ShiftReminder, ShiftSignup, SignupStatus

# kind -> (sent when the shift starts within this, but not within the next kind's window)
WINDOWS = {
    ReminderKind.DAY_BEFORE: (timedelta(hours=24), timedelta(hours=1)),
    ReminderKind.HOUR_BEFORE: (timedelta(hours=1), timedelta(0)),
}


def due_signup_ids(kind: str, now: datetime) -> list[int]:
    within, not_within = WINDOWS[kind]
    return list(
        ShiftSignup.objects.filter(
            status=SignupStatus.CONFIRMED,
            shift__starts_at__gt=now + not_within,
            shift__starts_at__lte=now + within,
        )
        .exclude(reminders__kind=kind)
        .order_by("shift__starts_at", "id")
        .values_list("id", flat=True)
    )


def send_one(*, signup_id: int, kind: str) -> bool:
    with transaction.atomic():
        signup = (
            ShiftSignup.objects.select_related("shift__event", "volunteer")
            .filter(pk=signup_id, status=SignupStatus.CONFIRMED)
            .first()
        )
        if signup is None:
            return False
        try:
            with transaction.atomic():
                ShiftReminder.objects.create(signup=signup, kind=kind)
        except IntegrityError:
            return False
        return notifications.send_reminder(signup=signup, kind=kind)


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due; returns how many went out."""
    now = now or timezone.now()
    sent = 0
    for kind in (ReminderKind.DAY_BEFORE, ReminderKind.HOUR_BEFORE):
        for signup_id in due_signup_ids(kind, now):
            sent += send_one(signup_id=signup_id, kind=kind)
    return sent
