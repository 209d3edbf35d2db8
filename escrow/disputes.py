"""Stripe disputes, booked from the facts of ``charge.dispute.*`` events."""

from django.db import transaction

from .ledger import Posting, post
from .locks import lock_payment
from .models import LedgerAccount, Payment

A = LedgerAccount

# Inquiries (``warning_*``) withdraw nothing; a real dispute withdraws its amount at once.
DISPUTE_INQUIRY_PREFIX = "warning_"


def record_dispute(*, dispute: dict) -> tuple[Payment | None, bool]:
    """Book a Stripe dispute from the facts of a ``charge.dispute.*`` event (``id``,
    ``payment_intent_id``, ``status``, ``amount_cents``: see ``stripe_gateway.dispute_facts``).
    Opened: the payment is flagged and Stripe's withdrawal is booked (``disputes`` debited,
    ``platform_clearing`` credited). Won: reversed, the money came back. Lost: it stays in
    ``disputes``, a loss the platform bears (candidates keep what they were owed). Events may
    come twice or out of order (a ``closed`` before its ``created``): each step is keyed and
    books once. Returns (payment, newly disputed) — None when the charge is not ours."""
    if not dispute["payment_intent_id"]:
        # A charge made without a PaymentIntent is not ours; and NULL must not match the
        # payments whose create has not answered yet (their payment_intent_id is NULL too).
        return None, False
    payment_id = (
        Payment.objects.filter(payment_intent_id=dispute["payment_intent_id"])
        .values_list("pk", flat=True)
        .first()
    )
    if payment_id is None:
        return None, False
    status, amount = dispute["status"], dispute["amount_cents"]
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id)
        newly_disputed = not payment.disputed
        if payment.dispute_status in ("won", "lost", "warning_closed"):
            return payment, False  # closed already: a late ``created`` or a replay
        payment.disputed = True
        payment.dispute_id = dispute["id"] or payment.dispute_id
        payment.dispute_status = status
        withdrawn = not status.startswith(DISPUTE_INQUIRY_PREFIX)
        if withdrawn:
            payment.disputed_cents = amount
            post(
                key=payment.idempotency_key("dispute"), kind="dispute", slate_id=pledge.slate_id,
                pledge_id=pledge.pk, payment_id=payment.pk,
                postings=[Posting(A.DISPUTES, amount), Posting(A.PLATFORM_CLEARING, -amount)],
            )  # fmt: skip
        if status == "won":
            post(
                key=payment.idempotency_key("dispute-won"), kind="dispute_won",
                slate_id=pledge.slate_id, pledge_id=pledge.pk, payment_id=payment.pk,
                postings=[Posting(A.PLATFORM_CLEARING, amount), Posting(A.DISPUTES, -amount)],
            )  # fmt: skip
            payment.disputed_cents = 0
        payment.save(
            update_fields=[
                "disputed",
                "dispute_id",
                "dispute_status",
                "disputed_cents",
                "updated_at",
            ]
        )
    return payment, newly_disputed
