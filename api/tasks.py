"""Thin Celery tasks for outbound webhooks; each is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from . import services, webhooks


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt; a failure schedules the next one with backoff."""
    retry = webhooks.attempt_delivery(delivery_id=delivery_id)
    if retry is not None:
        delay = max(0.0, (retry.next_attempt_at - timezone.now()).total_seconds())
        deliver_webhook.apply_async((delivery_id,), countdown=delay)


@shared_task(ignore_result=True)
def send_due_webhooks() -> int:
    """Beat: re-send deliveries whose retry is due (a lost message only delays them)."""
    ids = webhooks.due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@shared_task(ignore_result=True)
def forget_idempotency_records() -> int:
    return services.forget_idempotency_records()
