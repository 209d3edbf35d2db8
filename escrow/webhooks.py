"""Stripe webhook events: verified, stored once by event id, then processed idempotently.

Handlers never trust an event's snapshot of an object: events arrive late, twice or out of
order, so each handler asks Stripe for the object's current state and records that. Disputes
are the exception (see ``_handle``).
"""

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from slate.queue import enqueue_named_on_commit

from . import stripe_gateway
from .cards import confirm_card_setup
from .disputes import record_dispute
from .event_payloads import books_view
from .models import CardSetup, Payment, WebhookEvent
from .payments import record_payment_intent
from .refunds import adopt_refunds_made_in_stripe
from .stripe_results import WebhookSignatureError

logger = logging.getLogger(__name__)

PAYMENT_INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    "payment_intent.requires_action",
}


def construct_webhook_event(*, payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The verified event as a plain dict; WebhookSignatureError for anything doubtful."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not set")
    if not signature_header:
        raise WebhookSignatureError("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(exc.user_message or str(exc)) from exc
    except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
        raise WebhookSignatureError(f"unreadable payload: {exc}") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookSignatureError("payload is not a Stripe event")
    return event


def receive(*, payload: bytes, signature_header: str) -> tuple[WebhookEvent, bool]:
    """Verify and store an event. Returns (event, created). Raises WebhookSignatureError."""
    event = construct_webhook_event(payload=payload, signature_header=signature_header)
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                event_id=event["id"], type=event["type"], payload=event
            )
            enqueue_named_on_commit("escrow.tasks.process_webhook_event", row.pk)
            return row, True
    except IntegrityError:
        return WebhookEvent.objects.get(event_id=event["id"]), False


def process_event(*, event_row_id: int) -> bool:
    """Process one stored event; False when it was processed already.

    No transaction spans the handler: handlers call Stripe (a card replacement cancels a hold
    and places another), and each service they call records its intent and Stripe's answer in
    transactions of its own, so a crash after Stripe acted keeps the recorded intent for the
    sweeper to finish. Handlers are idempotent, so a second run (a retry, the webhook sweeper,
    a replay) finishes what the first left and changes nothing else. Each attempt is counted,
    and a failure's error stored, in a transaction of its own: the error survives the failure.
    """
    row = WebhookEvent.objects.filter(pk=event_row_id).first()
    if row is None or row.processed_at is not None:
        return False
    obj = row.payload.get("data", {}).get("object", {})
    try:
        _handle(stripe_gateway.event_facts(row.payload), obj)
    except Exception as exc:
        WebhookEvent.objects.filter(pk=row.pk, processed_at__isnull=True).update(
            error=repr(exc)[:2000], attempts=F("attempts") + 1, last_attempt_at=timezone.now()
        )
        raise
    now = timezone.now()
    # Processed, the event's snapshot has served: keep what the books need, not the person.
    return bool(
        WebhookEvent.objects.filter(pk=row.pk, processed_at__isnull=True).update(
            processed_at=now, error="", attempts=F("attempts") + 1, last_attempt_at=now,
            payload=books_view(row.payload),
        )
    )  # fmt: skip


def unprocessed_event_ids(*, untouched_since, limit: int = 500) -> list[int]:
    """Events stored but not processed, neither received nor tried since ``untouched_since``:
    their task was lost, or it failed. Events never tried come first (events that keep failing
    must not crowd them out), then the oldest, since later events may build on them."""
    return list(
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lte=untouched_since)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=untouched_since))
        .order_by(F("last_attempt_at").asc(nulls_first=True), "received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# Events that take money back from what candidates are owed: while one is stored but not yet
# booked, that slate's payouts wait (see ``slate_ids_awaiting_money_events``).
MONEY_BACK_EVENTS = ("charge.refunded", "charge.dispute.created", "charge.dispute.closed")


def slate_ids_awaiting_money_events() -> set[int]:
    """Slates with a refund or dispute event stored but not processed for one of their
    payments: paying their candidates now could pay out money Stripe already gave back. Reads
    the unprocessed events' own payloads (kept whole until processed); a handful at most."""
    intent_ids = set()
    for payload in WebhookEvent.objects.filter(
        processed_at__isnull=True, type__in=MONEY_BACK_EVENTS
    ).values_list("payload", flat=True):
        payment_intent_id = stripe_gateway.event_facts(payload or {}).payment_intent_id
        if payment_intent_id:
            intent_ids.add(payment_intent_id)
    if not intent_ids:
        return set()
    return set(
        Payment.objects.filter(payment_intent_id__in=intent_ids).values_list(
            "pledge__slate_id", flat=True
        )
    )


def _handle(event: stripe_gateway.StripeEventFacts, obj: dict) -> None:
    # Lookups by an id the event may not carry (a charge made without a PaymentIntent) are
    # skipped: filter(payment_intent_id=None) would match the payments still being created.
    event_type = event.type
    if event_type == "setup_intent.succeeded":
        if event.object_id and CardSetup.objects.filter(setup_intent_id=event.object_id).exists():
            confirm_card_setup(setup_intent_id=event.object_id)
    elif event_type in PAYMENT_INTENT_EVENTS:
        payment = _payment_of(event)
        if payment is not None:
            result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
            record_payment_intent(payment_id=payment.pk, result=result)
    elif event_type == "charge.refunded":
        payment = _payment_of(event)
        if payment is not None and payment.status == Payment.Status.SUCCEEDED:
            adopt_refunds_made_in_stripe(payment_id=payment.pk)
    elif event_type in ("charge.dispute.created", "charge.dispute.closed"):
        # Stripe lets a charge be disputed once and a dispute only moves forward, so the
        # event's own object is enough (and localstripe has no disputes to ask about).
        dispute = stripe_gateway.dispute_facts(obj)
        payment, newly_disputed = record_dispute(dispute=dispute)
        if newly_disputed:
            logger.warning("dispute opened on %s", payment.payment_intent_id)
            # A dispute has an evidence deadline (days): staff hear about it at once.
            enqueue_named_on_commit("escrow.tasks.alert_dispute", payment.pk, dispute)
    else:
        logger.debug("ignoring Stripe event %s", event_type)


def _payment_of(event: stripe_gateway.StripeEventFacts) -> Payment | None:
    if not event.payment_intent_id:
        return None
    return Payment.objects.filter(payment_intent_id=event.payment_intent_id).first()
