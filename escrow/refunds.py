"""Refunds, full or partial, by staff or the slate's organizers, reversing the ledger.

A refund takes money back from what candidates are owed, in proportion to how the pledge was
allocated. Money already paid out cannot be taken back here: the organizers recover it from
the campaign first (the ledger would otherwise show a candidate paid more than owed).
"""

from django.db import transaction
from django.db.models import Sum

from pledges import services as pledge_services
from slate import services as slate_services
from slate.queue import enqueue_named_on_commit
from slate.selectors import is_organizer

from . import stripe_gateway
from .errors import EscrowError
from .ledger import Posting, post
from .locks import lock_payment
from .models import LedgerAccount, Payment, Refund
from .selectors import candidate_unreserved_cents, refund_shares
from .states import move_status

A = LedgerAccount


def refund_payment(*, payment_id: int, amount_cents: int, actor, reason: str) -> Refund:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise EscrowError("invalid_amount", "Refund a positive whole number of cents.",
                          field="amount_cents")  # fmt: skip
    reason = (reason or "").replace("\x00", "").strip()[:500]
    if not reason:
        raise EscrowError("reason_required", "Say why the money is refunded.", field="reason")
    with transaction.atomic():
        # The slate's exclusive lock first: payouts are scheduled and sent under it, so what
        # they reserve cannot change while this refund claims its share (nor can another
        # refund's, on another payment of the slate).
        slate_id = Payment.objects.values_list("pledge__slate_id", flat=True).get(pk=payment_id)
        slate_services.lock_slate(slate_id)
        pledge, payment = lock_payment(payment_id)
        if not (actor.is_authenticated and (actor.is_staff or is_organizer(actor, pledge.slate))):
            raise EscrowError("forbidden", "Only staff or the slate's organizers refund.")
        if payment.status != Payment.Status.SUCCEEDED:
            raise EscrowError("not_captured", "Only captured money can be refunded.")
        pending = payment.refunds.filter(status=Refund.Status.CREATING).aggregate(
            s=Sum("amount_cents")
        )["s"] or 0  # fmt: skip
        refundable = payment.captured_cents - payment.refunded_cents - pending
        if amount_cents > refundable:
            raise EscrowError(
                "too_much", f"At most {refundable} cents can be refunded.", field="amount_cents"
            )
        for candidate_id, cents in refund_shares(payment, amount_cents).items():
            # Money in a payout not yet posted (pending, sending, failed) is spoken for too:
            # a failed payout sent again would otherwise pay it out after the refund.
            if candidate_unreserved_cents(candidate_id, pledge.slate_id) < cents:
                raise EscrowError(
                    "paid_out",
                    "Part of this money was already paid out to a candidate, or is reserved "
                    "for a payout to them; recover it first.",
                    field="amount_cents",
                )
        number = (payment.refunds.count() or 0) + 1
        refund = Refund.objects.create(
            payment=payment, number=number, amount_cents=amount_cents, reason=reason,
            requested_by=actor,
        )  # fmt: skip
    return send_refund(refund_id=refund.pk)


def send_refund(*, refund_id: int) -> Refund:
    """Ask Stripe for the refund (same key on a retry) and record the answer. A refusal
    Stripe calls temporary is raised, leaving the refund ``creating`` for the retry or the
    sweeper; a refusal for good fails it."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.CREATING:
        return refund
    try:
        existing = [
            r for r in stripe_gateway.list_refunds(refund.payment.payment_intent_id)
            if r.metadata.get("refund_id") == str(refund.pk)
        ]  # fmt: skip
        result = existing[0] if existing else stripe_gateway.refund(
            payment_intent_id=refund.payment.payment_intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=refund.idempotency_key(),
            metadata={"refund_id": refund.pk, "pledge_id": refund.payment.pledge_id},
        )  # fmt: skip
    except stripe_gateway.GatewayError as exc:
        if exc.retryable:
            raise
        return _fail_refund(refund_id=refund.pk, error=f"{exc.code}: {exc.message}")
    return record_refund(refund_id=refund.pk, stripe_refund_id=result.id, status=result.status)


def _fail_refund(*, refund_id: int, error: str, stripe_refund_id: str | None = None) -> Refund:
    """Stripe refused the refund for good: it fails with the reason, its amount is no longer
    reserved (only ``creating`` refunds are), nothing is posted, and staff are told."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.CREATING:
            return refund
        move_status(refund, Refund.Status.FAILED)
        refund.last_error = error[:500]
        refund.stripe_refund_id = stripe_refund_id
        refund.save(update_fields=["status", "last_error", "stripe_refund_id"])
        enqueue_named_on_commit("escrow.tasks.alert_refund_failed", refund.pk)
    return refund


def record_refund(*, refund_id: int, stripe_refund_id: str, status: str) -> Refund:
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.CREATING:
            return refund
        if status not in ("succeeded", "pending"):
            return _fail_refund(
                refund_id=refund.pk, stripe_refund_id=stripe_refund_id,
                error=f"Stripe answered the refund with status {status}",
            )  # fmt: skip
        refund.stripe_refund_id = stripe_refund_id
        move_status(refund, Refund.Status.SUCCEEDED)
        refund.save(update_fields=["status", "stripe_refund_id"])
        payment.refunded_cents += refund.amount_cents
        payment.save(update_fields=["refunded_cents", "updated_at"])
        if payment.unwanted_at is not None:
            _post_unwanted_refund(pledge, payment, refund)
            return refund
        shares = refund_shares(payment, refund.amount_cents)
        post(
            key=refund.idempotency_key(), kind="refund", slate_id=pledge.slate_id,
            pledge_id=pledge.pk, payment_id=payment.pk, memo=refund.reason,
            postings=[Posting(A.REFUNDS, -refund.amount_cents)] + [
                Posting(A.CANDIDATE_PAYABLE, cents, candidate_id=cid)
                for cid, cents in shares.items()
            ],
        )  # fmt: skip
        pledge_services.record_refund(
            pledge=pledge, refunded_cents=pledge.refunded_cents + refund.amount_cents,
            actor=refund.requested_by, reason=f"refund: {refund.reason}",
        )  # fmt: skip
    return refund


def _post_unwanted_refund(pledge, payment: Payment, refund: Refund) -> None:
    """The automatic refund of money taken after its pledge had ended: it was booked as owed
    back to the supporter (``supporter_refunds_due``), never to a candidate, and the pledge
    keeps its final state. The supporter is told once it went out."""
    post(
        key=refund.idempotency_key(), kind="refund", slate_id=pledge.slate_id,
        pledge_id=pledge.pk, payment_id=payment.pk, memo=refund.reason,
        postings=[Posting(A.SUPPORTER_REFUNDS_DUE, refund.amount_cents),
                  Posting(A.REFUNDS, -refund.amount_cents)],
    )  # fmt: skip
    enqueue_named_on_commit("escrow.tasks.notify_unwanted_payment_refunded", refund.pk)


def adopt_refunds_made_in_stripe(*, payment_id: int) -> list[Refund]:
    """Refunds made outside Slate (the Stripe dashboard), learnt from ``charge.refunded``:
    recorded and posted like our own, once each. If the money had already been paid out,
    the books then show that candidate owing it back, which check_ledger reports."""
    payment = Payment.objects.get(pk=payment_id)
    known = set(
        payment.refunds.exclude(stripe_refund_id=None).values_list("stripe_refund_id", flat=True)
    )
    ours = {str(pk) for pk in payment.refunds.values_list("pk", flat=True)}
    adopted = []
    for stripe_refund in stripe_gateway.list_refunds(payment.payment_intent_id):
        if stripe_refund.id in known or stripe_refund.metadata.get("refund_id") in ours:
            continue
        if stripe_refund.status not in ("succeeded", "pending"):
            continue
        with transaction.atomic():
            _, payment = lock_payment(payment_id)
            if payment.refunds.filter(stripe_refund_id=stripe_refund.id).exists():
                continue
            refund = Refund.objects.create(
                payment=payment, number=payment.refunds.count() + 1,
                amount_cents=stripe_refund.amount_cents, reason="refunded in Stripe",
            )  # fmt: skip
        adopted.append(
            record_refund(
                refund_id=refund.pk, stripe_refund_id=stripe_refund.id, status=stripe_refund.status
            )
        )
    return adopted
