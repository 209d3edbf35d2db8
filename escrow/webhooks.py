"""Stripe webhook events: verified, stored once by event id, then processed idempotently.

Handlers never trust an event's snapshot of an object: events arrive late, twice or out of
order, so each handler asks Stripe for the object's current state and records that. Disputes
are the exception (see ``_handle``).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from slate.queue import enqueue_on_commit

from . import services, stripe_gateway
from .models import CardSetup, Payment, WebhookEvent

logger = logging.getLogger(__name__)

PAYMENT_INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    "payment_intent.requires_action",
}


def receive(*, payload: bytes, signature_header: str) -> tuple[WebhookEvent, bool]:
    """Verify and store an event. Returns (event, created). Raises WebhookSignatureError."""
    event = stripe_gateway.construct_webhook_event(
        payload=payload, signature_header=signature_header
    )
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                event_id=event["id"], type=event["type"], payload=event
            )
            from . import tasks

            enqueue_on_commit(tasks.process_webhook_event, row.pk)
            return row, True
    except IntegrityError:
        return WebhookEvent.objects.get(event_id=event["id"]), False


def process_event(*, event_row_id: int) -> bool:
    with transaction.atomic():
        row = WebhookEvent.objects.select_for_update().get(pk=event_row_id)
        if row.processed_at is not None:
            return False
        obj = row.payload.get("data", {}).get("object", {})
        try:
            _handle(row.type, obj)
        except Exception as exc:
            row.error = repr(exc)[:2000]
            row.save(update_fields=["error"])
            raise
        row.processed_at = timezone.now()
        row.error = ""
        row.save(update_fields=["processed_at", "error"])
    return True


def _handle(event_type: str, obj: dict) -> None:
    if event_type == "setup_intent.succeeded":
        if CardSetup.objects.filter(setup_intent_id=obj.get("id")).exists():
            services.confirm_card_setup(setup_intent_id=obj["id"])
    elif event_type in PAYMENT_INTENT_EVENTS:
        payment = Payment.objects.filter(payment_intent_id=obj.get("id")).first()
        if payment is not None:
            result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
            services.record_payment_intent(payment_id=payment.pk, result=result)
    elif event_type == "charge.refunded":
        from .refunds import adopt_refunds_made_in_stripe

        payment = Payment.objects.filter(payment_intent_id=obj.get("payment_intent")).first()
        if payment is not None and payment.status == Payment.Status.SUCCEEDED:
            adopt_refunds_made_in_stripe(payment_id=payment.pk)
    elif event_type in ("charge.dispute.created", "charge.dispute.closed"):
        # Stripe lets a charge be disputed once and a dispute only moves forward, so the
        # event's own object is enough (and localstripe has no disputes to ask about).
        dispute = _dispute_facts(obj)
        payment, newly_disputed = services.record_dispute(dispute=dispute)
        if newly_disputed:
            logger.warning("dispute opened on %s", payment.payment_intent_id)
            # A dispute has an evidence deadline (days): staff hear about it at once.
            from . import tasks

            enqueue_on_commit(tasks.alert_dispute, payment.pk, dispute)
    else:
        logger.debug("ignoring Stripe event %s", event_type)


def _dispute_facts(dispute: dict) -> dict:
    """What we book and tell staff about a Stripe Dispute, read once (JSON-serializable, so
    the alert task can take it as it is)."""
    evidence = dispute.get("evidence_details") or {}
    due_by = evidence.get("due_by")
    return {
        "id": str(dispute.get("id") or ""),
        "payment_intent_id": dispute.get("payment_intent") or None,
        "status": str(dispute.get("status") or "needs_response"),
        "amount_cents": int(dispute.get("amount") or 0),
        "reason": str(dispute.get("reason") or "unknown"),
        "due_by": int(due_by) if due_by else None,
    }
