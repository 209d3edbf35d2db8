"""Recording what Stripe did to a payment (a PaymentIntent), and the rules it is read by.

The shape of each money step, so that a crash at any line leaves nothing doubled or lost:
1. In a transaction holding the rows' locks (slate shared, then pledge, then payment — always
   that order, ``locks``), check the state and record the intent (a ``creating``/
   ``capturing``/``canceling`` payment row). Commit.
2. Call Stripe with an idempotency key made of our ids and the step.
3. In a new locked transaction, record what Stripe says (``record_payment_intent``): payment
   status, pledge transition (``pledges.services.transition_locked_pledge``) and ledger
   postings (keyed, so never twice).
A crash between 1 and 3 leaves a payment in an in-flight status; the sweeper asks Stripe for
the PaymentIntent and finishes step 3 from the answer.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeState, pledge_transition_allowed
from slate.queue import enqueue_named_on_commit
from slate.states import SlateState

from . import stripe_gateway
from .ledger import Posting, post
from .locks import lock_payment
from .models import LedgerAccount, Payment, Refund
from .splits import credited_parts
from .states import move_allowed, move_status

logger = logging.getLogger(__name__)
A = LedgerAccount


def hold_validity() -> timedelta:
    return timedelta(hours=settings.SLATE_HOLD_VALID_HOURS)


# PaymentIntent statuses in which the intent still holds the card or waits for its supporter:
# such an intent on a payment we no longer want is cancelled at Stripe at once.
LIVE_INTENT_STATUSES = frozenset(
    {"requires_capture", "requires_action", "requires_payment_method", "requires_confirmation"}
)
# A pledge a payment may still be made for, or land on, and the slates whose pledges may
# still pay. A new hold needs an open slate, a new charge a locked one (``authorize_pledge``);
# a payment already on its way may land a little later, up to the release's end.
PAYABLE_PLEDGE_STATES = (PledgeState.COMMITTED, PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION)
NEW_PAYMENT_SLATE_STATES = {
    Payment.Purpose.HOLD: (SlateState.OPEN,),
    Payment.Purpose.CHARGE: (SlateState.LOCKED, SlateState.RELEASING),
}
LANDING_SLATE_STATES = (SlateState.OPEN, SlateState.LOCKED, SlateState.RELEASING)


class CancelPurpose:
    SUPPORTER = "supporter"  # the supporter cancelled the pledge
    VOID = "void"  # the slate expired, or the pledge's own conditions failed at the lock
    DROP = "drop"  # the hold is let go (lapsing, renewal); the pledge stays committed
    REPLACE = "replace"  # a declined payment gives way to one on the supporter's new card
    CARD_REPLACED = "card_replaced"  # a good hold gives way to one on the supporter's new card
    FAIL = "fail"  # the grace period ended with the payment still needing its supporter
    ENDED = "ended"  # Stripe made the payment after its pledge had ended


CANCEL_TARGETS = {
    CancelPurpose.SUPPORTER: PledgeState.CANCELLED,
    CancelPurpose.VOID: PledgeState.VOIDED,
    CancelPurpose.DROP: PledgeState.COMMITTED,
    CancelPurpose.CARD_REPLACED: PledgeState.COMMITTED,
    CancelPurpose.FAIL: PledgeState.FAILED,
}
# The supporter's own changes: allowed only while the slate is open. Once it has locked the
# pledge is final, and a good hold must stay for the release to capture.
SUPPORTER_CANCEL_PURPOSES = (CancelPurpose.SUPPORTER, CancelPurpose.CARD_REPLACED)
# Cancels whose pledge still takes the money if Stripe answers that it was paid meanwhile.
PAYING_CANCEL_PURPOSES = (
    CancelPurpose.DROP, CancelPurpose.REPLACE, CancelPurpose.CARD_REPLACED, CancelPurpose.FAIL
)  # fmt: skip


# --- Ledger postings ----------------------------------------------------------------------------


def _post_hold(payment: Payment) -> None:
    post(
        key=payment.idempotency_key("hold"), kind="hold", slate_id=payment.pledge.slate_id,
        pledge_id=payment.pledge_id, payment_id=payment.pk,
        postings=[Posting(A.SUPPORTER_HOLDS, payment.amount_cents),
                  Posting(A.HOLDS_OUTSTANDING, -payment.amount_cents)],
    )  # fmt: skip


def _post_hold_release(payment: Payment, why: str) -> None:
    """Reverse a hold's entries once (captured, canceled or lapsed) — if it was ever posted."""
    post(
        key=payment.idempotency_key("hold-release"), kind="hold_release",
        after_key=payment.idempotency_key("hold"),
        slate_id=payment.pledge.slate_id, pledge_id=payment.pledge_id, payment_id=payment.pk,
        memo=why,
        postings=[Posting(A.SUPPORTER_HOLDS, -payment.amount_cents),
                  Posting(A.HOLDS_OUTSTANDING, payment.amount_cents)],
    )  # fmt: skip


def _post_capture(pledge: Pledge, payment: Payment, captured_cents: int) -> list[str]:
    parts, reasons = credited_parts(pledge, captured_cents)
    postings = [Posting(A.PLATFORM_CLEARING, captured_cents)] + [
        Posting(A.CANDIDATE_PAYABLE, -cents, candidate_id=cid) for cid, cents in parts.items()
    ]
    post(
        key=payment.idempotency_key("capture"), kind="capture", slate_id=pledge.slate_id,
        pledge_id=pledge.pk, payment_id=payment.pk, postings=postings,
    )  # fmt: skip
    return reasons


# --- Is the payment still wanted? ---------------------------------------------------------------


def pledge_payable(pledge: Pledge) -> bool:
    """The pledge may still be held or charged (read under the pledge's lock)."""
    return pledge.state in PAYABLE_PLEDGE_STATES and pledge.slate.state in LANDING_SLATE_STATES


def _unwanted(pledge: Pledge, payment: Payment, status: str) -> bool:
    """Stripe made (or kept) ``payment`` as ``status``, but we no longer want it: we gave it
    up (cancelled or failed it; a cancel in flight for a pledge that ends), or its pledge is no
    longer live. A cancel sent when the grace period ended, answered by a success the supporter
    completed a moment before, is still wanted: the pledge is paid on time."""
    if payment.status == Payment.Status.SUCCEEDED:
        return False
    if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
        return True
    if payment.status == Payment.Status.CANCELING and (
        status in LIVE_INTENT_STATUSES or payment.cancel_purpose not in PAYING_CANCEL_PURPOSES
    ):
        return True
    return not pledge_payable(pledge)


# --- Recording a PaymentIntent ------------------------------------------------------------------


def record_payment_intent(
    *,
    payment_id: int,
    result,
    pledge_id: int | None = None,
    slate_id: int | None = None,
    let_go: bool = True,
) -> Payment:
    """Bring our payment, its pledge and the ledger in line with a PaymentIntent's status.
    ``pledge_id``/``slate_id``: see ``locks.lock_payment``.

    An intent that turns out to belong to a payment we no longer want (see ``_unwanted``) is
    let go at once: a hold or an intent waiting for the supporter is cancelled at Stripe (the
    payment is marked ``canceling`` first, so the sweeper finishes if we die), and money
    already taken is booked and refunded in full (``_book_unwanted_success``). ``let_go``:
    False when recording the answer to a cancel (it is not sent twice in a row)."""
    payment, cancel_now = _record_payment_intent(
        payment_id=payment_id, result=result, pledge_id=pledge_id, slate_id=slate_id
    )
    if cancel_now and let_go:
        logger.warning(
            "payment %s: Stripe holds %s for a payment we gave up; cancelling it",
            payment.pk, payment.payment_intent_id,
        )  # fmt: skip
        return act_and_record(
            payment, stripe_gateway.cancel, idempotency_key=payment.idempotency_key("cancel")
        )
    return payment


def record_intent(payment: Payment, result, *, let_go: bool = True) -> Payment:
    """``record_payment_intent`` for a payment whose pledge we have in hand (in the normal
    path it is the row locked a moment ago; the sweeper's payments read it once)."""
    return record_payment_intent(
        payment_id=payment.pk, result=result,
        pledge_id=payment.pledge_id, slate_id=payment.pledge.slate_id, let_go=let_go,
    )  # fmt: skip


def act_and_record(payment: Payment, stripe_call, **arguments) -> Payment:
    """Ask Stripe to capture or cancel, then record the PaymentIntent as it now stands. A
    refusal for good means the step already happened (or cannot) on Stripe's side, say on a
    retry after a crash: then Stripe's current record is the truth."""
    try:
        result = stripe_call(payment_intent_id=payment.payment_intent_id, **arguments)
    except stripe_gateway.GatewayError as exc:
        if exc.retryable:
            raise
        result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    return record_intent(payment, result, let_go=False)


def _record_payment_intent(*, payment_id, result, pledge_id, slate_id) -> tuple[Payment, bool]:
    """``record_payment_intent`` in one transaction; returns the payment and whether its
    intent must now be cancelled at Stripe (after this transaction commits)."""
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id, pledge_id=pledge_id, slate_id=slate_id)
        learned_id = payment.payment_intent_id is None and bool(result.id)
        if learned_id:
            payment.payment_intent_id = result.id
            payment.client_secret = result.client_secret or ""
        status = result.status
        if status in LIVE_INTENT_STATUSES and _unwanted(pledge, payment, status):
            return payment, _let_go_of_unwanted_intent(pledge, payment, learned_id)
        on_status = ON_INTENT_STATUS.get(status)
        saved = False
        if on_status is None:
            logger.warning("payment %s: unexpected PaymentIntent status %s", payment_id, status)
        else:
            saved = on_status(pledge, payment, result)
        if learned_id and not saved:
            payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
        return payment, False


# --- What each PaymentIntent status does to a payment we still want ------------------------------
# Each runs under the payment's lock and moves it only where ``states.PAYMENT_TRANSITIONS``
# allows: an answer that arrives twice, or late, finds the payment moved on and changes nothing.
# Each returns whether it saved the payment: a whole row, so with the intent's id if it was
# learned just now (the caller then does not write it a second time).


def _on_held(pledge: Pledge, payment: Payment, result) -> bool:
    """``requires_capture``: the bank agreed to the hold."""
    if not move_allowed(Payment.Status, payment.status, Payment.Status.REQUIRES_CAPTURE):
        return False
    move_status(payment, Payment.Status.REQUIRES_CAPTURE)
    payment.expires_at = timezone.now() + hold_validity()
    payment.save()
    _post_hold(payment)
    if pledge.state in (PledgeState.COMMITTED, PledgeState.NEEDS_ACTION):
        pledge_services.transition_locked_pledge(
            pledge=pledge, to_state=PledgeState.AUTHORIZED, reason="card authorized"
        )
    return True


def _on_paid(pledge: Pledge, payment: Payment, result) -> bool:
    """``succeeded``: Stripe took the money (a capture, or a charge)."""
    if payment.status == Payment.Status.SUCCEEDED:
        return False
    if _unwanted(pledge, payment, result.status):
        _book_unwanted_success(pledge, payment, result)
        return True
    captured = result.amount_received_cents or payment.amount_cents
    move_status(payment, Payment.Status.SUCCEEDED)
    payment.captured_cents = captured
    payment.save()
    _post_hold_release(payment, "captured")
    caps = _post_capture(pledge, payment, captured)
    if pledge.state != PledgeState.CAPTURED:
        reason = "payment captured"
        if captured < pledge.amount_cents:
            reason += f" ({captured} of {pledge.amount_cents} cents)"
        pledge_services.transition_locked_pledge(
            pledge=pledge, to_state=PledgeState.CAPTURED,
            reason=" ".join([reason, *caps])[:500], captured_cents=captured,
        )  # fmt: skip
    return True


def _on_canceled(pledge: Pledge, payment: Payment, result) -> bool:
    """``canceled``: the hold is let go (by us, or it lapsed at Stripe)."""
    if payment.status == Payment.Status.CANCELED:
        return False
    if not move_allowed(Payment.Status, payment.status, Payment.Status.CANCELED):
        # Captured money leaves only through refunds; a canceled intent cannot have paid.
        logger.warning("payment %s is %s; Stripe says canceled", payment.pk, payment.status)
        return False
    move_status(payment, Payment.Status.CANCELED)
    payment.save()
    _post_hold_release(payment, "canceled")
    move_pledge_after_cancel(pledge, payment)
    return True


def _on_needs_supporter(pledge: Pledge, payment: Payment, result) -> bool:
    """``requires_action`` (3-D Secure), ``requires_payment_method`` (declined) or
    ``requires_confirmation``: the supporter has to act; they are told."""
    if not move_allowed(Payment.Status, payment.status, Payment.Status.REQUIRES_ACTION):
        return False
    move_status(payment, Payment.Status.REQUIRES_ACTION)
    payment.last_error = (result.last_error_code or result.decline_code or result.status)[:500]
    payment.save()
    _post_hold_release(payment, "needs the supporter")
    if pledge.state in (PledgeState.COMMITTED, PledgeState.AUTHORIZED):
        pledge_services.transition_locked_pledge(
            pledge=pledge, to_state=PledgeState.NEEDS_ACTION,
            reason=f"card needs the supporter: {payment.last_error}",
        )  # fmt: skip
    enqueue_named_on_commit("escrow.tasks.notify_needs_action", payment.pk)
    return True


ON_INTENT_STATUS = {
    "requires_capture": _on_held,
    "succeeded": _on_paid,
    "canceled": _on_canceled,
    "requires_action": _on_needs_supporter,
    "requires_payment_method": _on_needs_supporter,
    "requires_confirmation": _on_needs_supporter,
}


def _let_go_of_unwanted_intent(pledge: Pledge, payment: Payment, learned_id: bool) -> bool:
    """A hold, or an intent waiting for the supporter, on a payment we no longer want. A
    payment still open is marked ``canceling`` (the sweeper finishes the cancel if we die);
    one we had already closed keeps its status (a second open payment of the pledge may
    exist). Returns whether the caller should send the cancel now: not when a canceller
    holding the mark is already on it (it knew the intent's id)."""
    if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
        payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
        return True
    if payment.status != Payment.Status.CANCELING:
        move_status(payment, Payment.Status.CANCELING)
        payment.cancel_purpose = CancelPurpose.ENDED
        payment.cancel_reason = "the pledge ended while its payment was being made"
        payment.save()
        return True
    if learned_id:
        payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
    return learned_id


def _book_unwanted_success(pledge: Pledge, payment: Payment, result) -> Refund:
    """Stripe took money for a payment we had given up, or for a pledge that has ended (the
    supporter finished 3-D Secure after the grace period, a create landed after a cancel):
    book what was taken as owed back to the supporter (``platform_clearing`` debited,
    ``supporter_refunds_due`` credited; no candidate is credited, the pledge keeps its final
    state and no contribution limit counts it) and refund it in full at once. The refund row
    is written here, in the same transaction, so the sweeper sends it if its task is lost."""
    captured = result.amount_received_cents or payment.amount_cents
    move_status(payment, Payment.Status.SUCCEEDED)
    payment.captured_cents = captured
    payment.unwanted_at = timezone.now()
    payment.save()
    _post_hold_release(payment, "captured after the payment was given up")
    post(
        key=payment.idempotency_key("capture"), kind="unwanted_capture",
        slate_id=pledge.slate_id, pledge_id=pledge.pk, payment_id=payment.pk,
        memo=f"taken by Stripe after the pledge was {pledge.state}",
        postings=[Posting(A.PLATFORM_CLEARING, captured),
                  Posting(A.SUPPORTER_REFUNDS_DUE, -captured)],
    )  # fmt: skip
    refund = Refund.objects.create(
        payment=payment, number=payment.refunds.count() + 1, amount_cents=captured,
        reason=f"paid after the pledge was {pledge.state}: refunded automatically",
    )  # fmt: skip
    logger.warning(
        "payment %s of %s pledge %s succeeded at Stripe (%s cents): refunding it",
        payment.pk, pledge.state, pledge.pk, captured,
    )  # fmt: skip
    enqueue_named_on_commit("escrow.tasks.send_refund", refund.pk)
    return refund


def move_pledge_after_cancel(pledge: Pledge, payment: Payment) -> None:
    """Where the canceller meant the pledge to go once Stripe confirmed the cancel (see
    ``CANCEL_TARGETS``); a replaced payment leaves it where it is."""
    if payment.cancel_purpose == CancelPurpose.REPLACE:
        return
    target = CANCEL_TARGETS.get(payment.cancel_purpose, PledgeState.COMMITTED)
    if payment.cancel_purpose == CancelPurpose.ENDED:
        # A hold landing on a pledge of a slate that expired meanwhile: the pledge is voided
        # with it (the expiry's void may have passed it by while it looked unheld).
        if pledge.slate.state not in (SlateState.EXPIRED, SlateState.VOIDED):
            return
        target = PledgeState.VOIDED
    # A committed pledge's payment was still being made when it was cancelled.
    if pledge.state in PAYABLE_PLEDGE_STATES and (
        pledge_transition_allowed(pledge.kind, pledge.state, target)
    ):
        pledge_services.transition_locked_pledge(
            pledge=pledge, to_state=target,
            reason=payment.cancel_reason
            or f"hold canceled ({payment.cancel_purpose or 'dropped'})",
        )  # fmt: skip
