"""Thin Celery wrappers; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from slate import mail

from . import notifications, reminders, services, staff_invitations


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def match_volunteers(slate_id: int) -> int:
    return services.match_slate_volunteers(slate_id=slate_id)


@shared_task(**mail.TASK_RETRY)
def notify_volunteer_match(match_id: int) -> bool:
    return notifications.notify_match(match_id=match_id)


@shared_task(**mail.TASK_RETRY)
def notify_promoted(signup_id: int) -> bool:
    return notifications.notify_promoted(signup_id=signup_id)


@shared_task
def send_shift_reminders() -> int:
    """Beat, every five minutes."""
    return reminders.send_due_reminders()


@shared_task
def sweep_unmatched_slates() -> int:
    """Beat: start matching for any locked slate whose matching message was lost."""
    ids = services.slates_awaiting_matching()
    for slate_id in ids:
        match_volunteers.delay(slate_id)
    return len(ids)


@shared_task(**mail.TASK_RETRY)
def send_staff_invitation(invitation_id: int) -> bool:
    return staff_invitations.send(invitation_id=invitation_id)
