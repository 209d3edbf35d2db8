"""Thin Celery wrappers; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import notices


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def tell_supporters_deadline_extended(extension_id: int) -> int:
    return notices.tell_supporters_deadline_extended(extension_id=extension_id)
