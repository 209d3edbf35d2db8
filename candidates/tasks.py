"""Thin Celery wrappers around candidates' work; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import notifications


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def email_invitation_link(invitation_id: int, email: str) -> bool:
    return notifications.email_invitation_link(invitation_id=invitation_id, email=email)
