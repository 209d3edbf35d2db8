"""Compare our payments and refunds with Stripe's PaymentIntents and Refunds."""

from slate.models import Slate

from . import stripe_gateway
from .models import Payment

# Which Stripe PaymentIntent statuses each of our settled statuses may sit beside.
EXPECTED = {
    Payment.Status.REQUIRES_CAPTURE: {"requires_capture"},
    Payment.Status.SUCCEEDED: {"succeeded"},
    Payment.Status.CANCELED: {"canceled"},
    Payment.Status.REQUIRES_ACTION: {"requires_action", "requires_payment_method"},
    Payment.Status.FAILED: {"requires_action", "requires_payment_method", "canceled"},
}


def reconcile_slate(slate: Slate) -> list[str]:
    """Differences between the books and Stripe for one slate, as sentences."""
    differences: list[str] = []
    payments = Payment.objects.filter(pledge__slate=slate, payment_intent_id__isnull=False)
    for payment in payments.order_by("pk"):
        try:
            intent = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
        except stripe_gateway.GatewayError as exc:
            differences.append(f"payment {payment.pk}: Stripe cannot find it ({exc.code})")
            continue
        allowed = EXPECTED.get(payment.status)
        if allowed is None:
            differences.append(f"payment {payment.pk}: still {payment.status} (in flight)")
        elif intent.status not in allowed:
            differences.append(
                f"payment {payment.pk}: ours {payment.status}, Stripe {intent.status}"
            )
        if payment.status == Payment.Status.SUCCEEDED:
            if intent.amount_received_cents != payment.captured_cents:
                differences.append(
                    f"payment {payment.pk}: captured {payment.captured_cents}, "
                    f"Stripe received {intent.amount_received_cents}"
                )
            refunded = sum(
                r.amount_cents
                for r in stripe_gateway.list_refunds(payment.payment_intent_id)
                if r.status in ("succeeded", "pending")
            )
            if refunded != payment.refunded_cents:
                differences.append(
                    f"payment {payment.pk}: refunded {payment.refunded_cents}, "
                    f"Stripe refunded {refunded}"
                )
    return differences
