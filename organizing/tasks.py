"""Thin Celery wrappers; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from slate import mail

from . import milestones, notices, organizer_mail, update_sending


# OSError: a mail server or provider failing (smtplib's errors and anymail's requests errors
# are OSErrors); the supporters told before it are skipped on the retry (send-once keys).
@shared_task(**mail.TASK_RETRY)
def tell_supporters_deadline_extended(extension_id: int) -> int:
    return notices.tell_supporters_deadline_extended(extension_id=extension_id)


# Organizer updates (organizing.updates): a lost or killed run is resumed by the sweeper, and
# a run repeated sends nobody twice (each recipient's send-once key).
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def prepare_organizer_update(update_id: int) -> int:
    return update_sending.prepare(update_id)


@shared_task(**mail.TASK_RETRY)
def send_organizer_update_batch(update_id: int, number: int) -> int:
    return update_sending.send_batch(update_id, number)


@shared_task
def sweep_organizer_updates() -> int:
    return update_sending.sweep()


@shared_task(**mail.TASK_RETRY)
def milestones_after_signature(slate_id: int) -> int:
    return milestones.after_signature(slate_id=slate_id)


@shared_task(**mail.TASK_RETRY)
def milestone_locked(slate_id: int) -> int:
    return milestones.announce_locked(slate_id=slate_id)


@shared_task(**mail.TASK_RETRY)
def milestone_released(slate_id: int) -> int:
    return milestones.announce_released(slate_id=slate_id)


@shared_task
def sweep_milestones() -> int:
    """Each open slate's "signed" news for the day, and fan-outs a failed task left (the
    milestones' and the deadline extensions')."""
    return milestones.sweep() + notices.finish_untold_extensions()


@shared_task(**mail.TASK_RETRY)
def send_organizer_invitation(invitation_id: int) -> bool:
    return organizer_mail.send_organizer_invitation(invitation_id=invitation_id)


@shared_task(**mail.TASK_RETRY)
def tell_organizers_refused(transition_id: int) -> int:
    return organizer_mail.tell_organizers_refused(transition_id=transition_id)
