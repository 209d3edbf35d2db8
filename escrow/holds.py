"""Holds, charges, captures and cancels: each a locked intent, a Stripe call with a key made
of our ids, and the answer recorded (``payments.record_payment_intent``)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.states import SlateState

from . import stripe_gateway
from .errors import EscrowError
from .locks import lock_payment, lock_pledge
from .models import CardSetup, Payment
from .payments import (
    NEW_PAYMENT_SLATE_STATES,
    SUPPORTER_CANCEL_PURPOSES,
    CancelPurpose,
    act_and_record,
    move_pledge_after_cancel,
    pledge_payable,
    record_intent,
)
from .splits import ReleaseContext, decide_capture, nothing_capturable
from .states import move_status

logger = logging.getLogger(__name__)


def _new_payment(
    pledge: Pledge, purpose: str, amount_cents: int, *, card_setup: CardSetup, attempt: int
) -> Payment:
    return Payment.objects.create(
        pledge=pledge, attempt=attempt, purpose=purpose, amount_cents=amount_cents,
        currency=pledge.currency, card_setup=card_setup,
    )  # fmt: skip


def card_for(pledge: Pledge) -> CardSetup:
    """The newest saved card, with its Stripe customer (a payment on it names both)."""
    card_setup = (
        pledge.card_setups.filter(status=CardSetup.Status.SUCCEEDED)
        .select_related("customer")
        .order_by("-pk")
        .first()
    )
    if card_setup is None:
        raise EscrowError("no_card", "This pledge has no saved card.")
    return card_setup


def authorize_pledge(
    *,
    pledge_id: int,
    purpose: str = Payment.Purpose.HOLD,
    from_states: tuple[str, ...] = (PledgeState.COMMITTED,),
    context: ReleaseContext | None = None,
) -> Payment | None:
    """Place a hold (or, at release, charge) on the newest saved card of a pledge. A hold is
    for the whole pledge; a charge takes what the donor's contribution limits allow
    (``NothingCapturable`` when that is nothing). ``context``: the release's shared reads."""
    with transaction.atomic():
        pledge = lock_pledge(pledge_id, context.slate_id if context is not None else None)
        # The pledge's few payments, read once: the open one (at most one, a constraint says)
        # and the number of the next attempt.
        payments = list(pledge.payments.order_by("-attempt"))
        existing = next((p for p in payments if p.status in Payment.OPEN), None)
        if pledge.state not in from_states or existing is not None:
            return existing
        if pledge.slate.state not in NEW_PAYMENT_SLATE_STATES[purpose]:
            # The slate expired, released or locked since the caller looked: a hold or charge
            # placed now would belong to no live pledge. The slate is locked shared here, so
            # its state cannot change before the payment row below is written.
            logger.info("pledge %s: no %s on a %s slate", pledge_id, purpose, pledge.slate.state)
            return None
        card_setup = card_for(pledge)
        amount_cents = pledge.amount_cents
        if purpose == Payment.Purpose.CHARGE:
            decision = decide_capture(pledge, amount_cents, context)
            if decision.total_cents == 0:
                raise nothing_capturable(decision)
            amount_cents = decision.total_cents
        attempt = payments[0].attempt + 1 if payments else 1
        payment = _new_payment(
            pledge, purpose, amount_cents, card_setup=card_setup, attempt=attempt
        )
    return send_create(payment)


def send_create(payment: Payment) -> Payment:
    """Send a ``creating`` payment's PaymentIntent to Stripe and record the answer. Only the
    first send comes here straight; a create whose outcome is unknown goes through
    ``settle_unknown_create``, which looks for the intent at Stripe before sending again."""
    card_setup = payment.card_setup
    create = (
        stripe_gateway.create_hold
        if payment.purpose == Payment.Purpose.HOLD
        else stripe_gateway.charge_off_session
    )
    try:
        result = create(
            customer_id=card_setup.customer.customer_id,
            payment_method_id=card_setup.payment_method_id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key("create"),
            metadata={"pledge_id": payment.pledge_id, "payment_id": payment.pk},
        )
    except stripe_gateway.GatewayError as exc:
        if exc.retryable:
            raise  # the row stays "creating"; a retry or the sweeper resends the same key
        return record_refused_payment(payment_id=payment.pk, error=exc)
    return record_intent(payment, result)


def record_refused_payment(*, payment_id: int, error) -> Payment:
    """Stripe refused to create the payment for good (the saved card or customer is unusable).
    Before the lock the pledge simply stays committed (it is charged at release); at release
    it needs its supporter, who can save another card."""
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id)
        if payment.status != Payment.Status.CREATING:
            return payment
        move_status(payment, Payment.Status.FAILED)
        payment.last_error = f"{error.code}: {error.message}"[:500]
        payment.save(update_fields=["status", "last_error", "updated_at"])
        if payment.purpose == Payment.Purpose.CHARGE and pledge.state == PledgeState.COMMITTED:
            pledge_services.transition_locked_pledge(
                pledge=pledge, to_state=PledgeState.NEEDS_ACTION,
                reason=f"Stripe refused the charge: {payment.last_error}",
            )  # fmt: skip
    logger.warning("payment %s refused by Stripe: %s", payment_id, error)
    return payment


def capture_payment(
    *, payment_id: int, pledge_id: int | None = None, context: ReleaseContext | None = None
) -> Payment:
    """Capture a held payment: in full, or as much as the donor's contribution limits allow
    (Stripe releases the rest of the hold). Safe to run any number of times: the amount is
    decided once, with the step that marks the payment ``capturing``, and a retry asks for
    the same. ``NothingCapturable`` when the limits leave nothing to take. ``pledge_id`` and
    ``context`` (the release's shared reads) save queries when the caller has them."""
    slate_id = context.slate_id if context is not None and pledge_id is not None else None
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id, pledge_id=pledge_id, slate_id=slate_id)
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        if payment.status not in (Payment.Status.REQUIRES_CAPTURE, Payment.Status.CAPTURING):
            raise EscrowError("not_capturable", f"A {payment.status} payment cannot be captured.")
        if payment.status == Payment.Status.REQUIRES_CAPTURE:
            decision = decide_capture(pledge, payment.amount_cents, context)
            if decision.total_cents == 0:
                raise nothing_capturable(decision)
            payment.capture_cents = decision.total_cents
            move_status(payment, Payment.Status.CAPTURING)
            payment.save(update_fields=["status", "capture_cents", "updated_at"])
    return act_and_record(
        payment,
        stripe_gateway.capture,
        amount_to_capture_cents=(
            payment.amount_cents if payment.capture_cents is None else payment.capture_cents
        ),
        idempotency_key=payment.idempotency_key("capture"),
    )


def cancel_payment(*, payment_id: int, purpose: str, reason: str = "") -> Payment:
    """Let a hold go. ``purpose`` says where its pledge goes once Stripe confirms (see
    ``payments.CANCEL_TARGETS``), ``reason`` what the pledge's history says about it. A
    payment still ``creating`` is marked ``canceling`` first: its create may have reached
    Stripe, so it is looked for there (``settle_unknown_create``) and cancelled if found."""
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id)
        if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
            return payment
        if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CAPTURING):
            raise EscrowError("already_captured", "This payment is being or has been captured.")
        resuming = payment.status == Payment.Status.CANCELING  # intent recorded earlier
        if (
            purpose in SUPPORTER_CANCEL_PURPOSES
            and not resuming
            and pledge.slate.state != SlateState.OPEN
        ):
            # The slate lock takes the slate row exclusively; we hold it shared, so this
            # check and the CANCELING mark below cannot interleave with the lock.
            raise EscrowError("slate_closed", "The slate has locked; the pledge is final.")
        if (
            purpose == CancelPurpose.SUPPORTER
            and not resuming
            and pledge.slate.deadline <= (timezone.now())
        ):
            raise EscrowError(
                "deadline_passed",
                "The slate's deadline has passed; pledges can no longer be cancelled.",
            )
        # A create last sent (or written) longer ago than the sweeper's timeout is not in
        # flight any more: if Stripe has no intent for it now, it never will.
        create_settled = payment.updated_at <= timezone.now() - payment_stale_after()
        if not resuming:
            move_status(payment, Payment.Status.CANCELING)
            payment.cancel_purpose, payment.cancel_reason = purpose, reason[:500]
            payment.save(update_fields=["status", "cancel_purpose", "cancel_reason", "updated_at"])
    if payment.payment_intent_id is None:
        return settle_unknown_create(payment_id=payment.pk, final=create_settled)
    return act_and_record(
        payment, stripe_gateway.cancel, idempotency_key=payment.idempotency_key("cancel")
    )


def payment_stale_after() -> timedelta:
    """How long a payment may sit in flight before the sweeper takes it for abandoned."""
    return timedelta(seconds=settings.SLATE_PAYMENT_STALE_SECONDS)


def _find_created_intent(payment: Payment):
    """The PaymentIntent Stripe made for ``payment``'s create, if it made one: the
    customer's intents, matched by the ids we put in its metadata (and its amount)."""
    card_setup = payment.card_setup
    if card_setup is None:
        return None
    found = stripe_gateway.find_payment_intent(
        customer_id=card_setup.customer.customer_id,
        metadata={"pledge_id": payment.pledge_id, "payment_id": payment.pk},
        created_after=int((payment.created_at - timedelta(hours=1)).timestamp()),
    )
    if found is not None and found.amount_cents != payment.amount_cents:
        logger.warning("payment %s: intent %s has another amount", payment.pk, found.id)
        return None
    return found


def settle_unknown_create(*, payment_id: int, final: bool = True) -> Payment:
    """A payment whose create may or may not have reached Stripe (a killed worker, a lost
    answer): ``creating``, or ``canceling`` before its intent's id was known.

    First look for the intent at Stripe by our own ids and adopt it if found (the recorder
    then cancels it, or refunds it, if the payment is no longer wanted). Only when Stripe has
    none: a payment being cancelled is closed (``final``: no create can still be in flight;
    otherwise it stays ``canceling`` for the sweeper to look again), and a create is sent again
    only while its pledge is live. Resending on the idempotency key alone is not enough:
    Stripe forgets keys after 24 hours, and localstripe ignores them."""
    payment = Payment.objects.select_related("pledge__slate", "card_setup__customer").get(
        pk=payment_id
    )
    found = _find_created_intent(payment)
    if found is not None:
        logger.info("payment %s: adopting %s found at Stripe", payment_id, found.id)
        return record_intent(payment, found)
    with transaction.atomic():
        pledge, payment = lock_payment(payment_id)
        if payment.payment_intent_id is not None:
            return payment  # recorded meanwhile by whoever sent it
        if payment.status == Payment.Status.CANCELING:
            if final:
                move_status(payment, Payment.Status.CANCELED)
                payment.save(update_fields=["status", "updated_at"])
                move_pledge_after_cancel(pledge, payment)
            return payment
        if payment.status != Payment.Status.CREATING:
            return payment
        if not pledge_payable(pledge):
            move_status(payment, Payment.Status.CANCELED)
            payment.cancel_purpose = CancelPurpose.ENDED
            payment.cancel_reason = f"never sent again: the pledge is {pledge.state}"
            payment.save(update_fields=["status", "cancel_purpose", "cancel_reason", "updated_at"])
            return payment
    card_setup = CardSetup.objects.select_related("customer").get(pk=payment.card_setup_id)
    payment.card_setup = card_setup
    return send_create(payment)


def renew_hold(*, payment_id: int) -> Payment | None:
    """Let a hold about to lapse go and place a fresh one (a new attempt, a new key). Holds
    are placed and renewed by the beat job (see ``selectors.pledge_ids_due_for_hold``)."""
    payment = cancel_payment(payment_id=payment_id, purpose=CancelPurpose.DROP)
    if payment.status != Payment.Status.CANCELED:
        return payment
    return authorize_pledge(pledge_id=payment.pledge_id)
