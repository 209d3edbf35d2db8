"""Stripe's processing fees, booked once Stripe reports them."""

from django.db import transaction

from . import stripe_gateway
from .ledger import Posting, post
from .models import LedgerAccount, Payment

A = LedgerAccount


def book_stripe_fee(*, payment_id: int) -> int | None:
    """Ask Stripe what it kept of a captured payment and book it once (``stripe_fees``
    debited, ``platform_clearing`` credited: the cash that never reached us). The platform
    bears the fee; candidates are still owed the whole capture. Returns the fee, or None
    while Stripe has not settled the charge (the next run asks again). Safe to run twice:
    the payment row's lock and the ledger key each stop a second booking."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.SUCCEEDED or payment.fee_cents is not None:
        return payment.fee_cents
    fee = stripe_gateway.retrieve_charge_fee(payment.payment_intent_id)
    if fee is None:
        return None
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("pledge")
            .get(pk=payment_id)
        )
        if payment.fee_cents is not None:
            return payment.fee_cents
        payment.fee_cents = fee
        payment.save(update_fields=["fee_cents", "updated_at"])
        post(
            key=payment.idempotency_key("fee"), kind="fee", slate_id=payment.pledge.slate_id,
            pledge_id=payment.pledge_id, payment_id=payment.pk,
            postings=[Posting(A.STRIPE_FEES, fee), Posting(A.PLATFORM_CLEARING, -fee)],
        )  # fmt: skip
    return fee
