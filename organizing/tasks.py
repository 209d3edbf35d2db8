"""Thin Celery wrappers; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import notices, updates


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def tell_supporters_deadline_extended(extension_id: int) -> int:
    return notices.tell_supporters_deadline_extended(extension_id=extension_id)


# Organizer updates (organizing.updates): a lost or killed run is resumed by the sweeper, and
# a run repeated sends nobody twice (each recipient's send-once key).
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def prepare_organizer_update(update_id: int) -> int:
    return updates.prepare(update_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def send_organizer_update_batch(update_id: int, number: int) -> int:
    return updates.send_batch(update_id, number)


@shared_task
def sweep_organizer_updates() -> int:
    return updates.sweep()
