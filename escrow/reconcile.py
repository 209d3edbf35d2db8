"""Compare our payments and refunds with Stripe's PaymentIntents and Refunds, and walk
Stripe's own charges for money the books do not know."""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from slate.models import Slate

from . import stripe_gateway
from .models import OrphanCharge, Payment

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


def _describe(orphan: OrphanCharge) -> str:
    what = "taken" if orphan.captured else "held"
    intent = f" (PaymentIntent {orphan.payment_intent_id})" if orphan.payment_intent_id else ""
    named = orphan.metadata.get("pledge_id")
    pledge = f", metadata names pledge {named}" if named else ""
    return (
        f"charge {orphan.charge_id}{intent}: {orphan.amount_cents} cents {what} at Stripe "
        f"on {orphan.charged_at:%Y-%m-%d %H:%M} UTC{pledge}, not on the books"
    )


def _orphan_facts(charge: stripe_gateway.ChargeResult) -> dict | None:
    """What an unknown charge still takes or holds, with the metadata that may name our
    pledge (its PaymentIntent's: a charge does not always carry it); None when it takes
    nothing any more (failed, refunded, or a hold whose intent was cancelled: localstripe
    leaves such a charge as it was)."""
    if charge.status != "succeeded" or charge.outstanding_cents <= 0:
        return None
    metadata = dict(charge.metadata)
    if charge.payment_intent_id:
        intent = stripe_gateway.retrieve_payment_intent(charge.payment_intent_id)
        if not charge.captured and intent.status != "requires_capture":
            return None
        metadata = {**intent.metadata, **metadata}
    return {
        "payment_intent_id": charge.payment_intent_id or "",
        "customer_id": charge.customer_id or "",
        "amount_cents": charge.outstanding_cents,
        "currency": charge.currency or "usd",
        "captured": charge.captured,
        "metadata": metadata,
        "charged_at": datetime.fromtimestamp(charge.created, tz=UTC),
    }


def find_orphan_charges(*, since: datetime) -> list[OrphanCharge]:
    """Every charge Stripe made since ``since`` whose PaymentIntent no payment of ours
    knows, still taking or holding money: recorded (once each) for staff, who refund it in
    the admin. One list call per 100 charges; only unknown charges cost a further request."""
    charges = stripe_gateway.list_charges(created_after=int(since.timestamp()))
    known = set(
        Payment.objects.filter(
            payment_intent_id__in=[c.payment_intent_id for c in charges if c.payment_intent_id]
        ).values_list("payment_intent_id", flat=True)
    )
    unresolved = {
        orphan.charge_id: orphan
        for orphan in OrphanCharge.objects.filter(
            charge_id__in=[c.id for c in charges], resolved_at__isnull=True
        )
    }
    resolved = set(
        OrphanCharge.objects.filter(
            charge_id__in=[c.id for c in charges], resolved_at__isnull=False
        ).values_list("charge_id", flat=True)
    )
    orphans = []
    for charge in charges:
        if charge.id in resolved:
            continue
        recorded = unresolved.get(charge.id)
        if charge.payment_intent_id in known:
            if recorded is not None:
                _settle_outside(recorded, "adopted by a payment since it was found")
            continue
        facts = _orphan_facts(charge)
        if facts is None:
            if recorded is not None:  # refunded or let go in the Stripe dashboard meanwhile
                _settle_outside(recorded, "settled at Stripe outside Slate")
            continue
        if recorded is None:
            recorded, _ = OrphanCharge.objects.get_or_create(charge_id=charge.id, defaults=facts)
        orphans.append(recorded)
    return orphans


def _settle_outside(orphan: OrphanCharge, resolution: str) -> None:
    OrphanCharge.objects.filter(pk=orphan.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution=resolution
    )


def orphan_charge_report(*, since: datetime, slate: Slate | None = None) -> list[str]:
    """``find_orphan_charges`` as sentences; for one slate, the orphans whose metadata names
    one of its pledges."""
    orphans = find_orphan_charges(since=since)
    if slate is not None:
        pledge_ids = {str(pk) for pk in slate.pledges.values_list("pk", flat=True)}
        orphans = [o for o in orphans if o.metadata.get("pledge_id") in pledge_ids]
    return [_describe(orphan) for orphan in orphans]


def refund_orphan(*, orphan_id: int, actor) -> OrphanCharge:
    """Give back money our books do not know: refund what the charge took, or let its hold
    go. Checked again first: a payment may have adopted the intent since it was found."""
    if not (actor.is_authenticated and actor.has_perm("escrow.refund_orphancharge")):
        raise PermissionDenied("Only staff allowed to refund orphan charges may do this.")
    orphan = OrphanCharge.objects.get(pk=orphan_id)
    if orphan.resolved_at is not None:
        return orphan
    if (
        orphan.payment_intent_id
        and Payment.objects.filter(payment_intent_id=orphan.payment_intent_id).exists()
    ):
        resolution = "adopted by a payment since it was found: nothing refunded"
    elif orphan.captured or not orphan.payment_intent_id:
        refund = stripe_gateway.refund_charge(
            charge_id=orphan.charge_id, amount_cents=orphan.amount_cents,
            idempotency_key=f"orphan-charge-{orphan.charge_id}-refund",
            metadata={"orphan_charge_id": orphan.pk},
        )  # fmt: skip
        resolution = f"refunded {orphan.amount_cents} cents ({refund.id}, {refund.status})"
    else:
        stripe_gateway.cancel(
            payment_intent_id=orphan.payment_intent_id,
            idempotency_key=f"orphan-charge-{orphan.charge_id}-cancel",
        )
        resolution = "hold let go (PaymentIntent cancelled)"
    with transaction.atomic():
        orphan = OrphanCharge.objects.select_for_update().get(pk=orphan_id)
        if orphan.resolved_at is None:
            orphan.resolved_at = timezone.now()
            orphan.resolution = resolution
            orphan.resolved_by = actor
            orphan.save(update_fields=["resolved_at", "resolution", "resolved_by"])
    return orphan
