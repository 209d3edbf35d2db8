"""Payments that need their supporter (3-D Secure, or another card after a decline): the
supporter completes them, or saves another card; after the grace period the pledge fails."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.states import SlateState

from . import stripe_gateway
from .errors import EscrowError, NothingCapturable
from .holds import authorize_pledge, cancel_payment, capture_payment
from .models import Payment
from .payments import CancelPurpose, record_payment_intent
from .release import finish_release_if_done
from .selectors import open_payment
from .voiding import void_pledge

logger = logging.getLogger(__name__)

GRACE_ENDED = "the card still needed the supporter when the grace period ended"


def payment_needing_supporter(*, pledge: Pledge, actor) -> Payment:
    """The payment whose client secret the completion page hands to Stripe.js."""
    if not actor.is_authenticated or actor.pk != pledge.supporter_id:
        raise EscrowError("forbidden", "Only the supporter completes their payment.")
    payment = pledge.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()
    if pledge.state != PledgeState.NEEDS_ACTION or payment is None:
        raise EscrowError("nothing_to_complete", "This pledge does not need you right now.")
    return payment


def refresh_payment(*, payment_id: int) -> Payment:
    """After Stripe.js returns (or a webhook arrives): record the PaymentIntent as it is now.
    A completed hold is captured at once when its slate is already releasing."""
    payment = Payment.objects.select_related("pledge__slate").get(pk=payment_id)
    result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    payment = record_payment_intent(payment_id=payment_id, result=result)
    if (
        payment.status == Payment.Status.REQUIRES_CAPTURE
        and payment.pledge.slate.state == SlateState.RELEASING
    ):
        try:
            payment = capture_payment(payment_id=payment_id)
        except NothingCapturable as exc:
            # As the release does: the donor's limits leave nothing to take, so the hold
            # the supporter just completed is let go and the pledge is voided.
            void_pledge(pledge_id=payment.pledge_id, reason=exc.message)
            payment.refresh_from_db()
    return payment


def retry_with_new_card(*, pledge_id: int) -> Payment | None:
    """The supporter saved another card after a decline: drop the failed payment and pay with
    the new card (a charge once the slate has locked, a hold before)."""
    pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
    if pledge.state != PledgeState.NEEDS_ACTION:
        return open_payment(pledge)
    failed = pledge.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()
    if failed is not None:
        cancel_payment(payment_id=failed.pk, purpose=CancelPurpose.REPLACE)
    locked = pledge.slate.state in (SlateState.LOCKED, SlateState.RELEASING)
    try:
        return authorize_pledge(
            pledge_id=pledge_id,
            purpose=Payment.Purpose.CHARGE if locked else Payment.Purpose.HOLD,
            from_states=(PledgeState.NEEDS_ACTION,),
        )
    except NothingCapturable as exc:
        void_pledge(pledge_id=pledge_id, reason=exc.message)
        return None


def fail_overdue_needs_action(*, now=None) -> int:
    """After the grace period a pledge that still needs its supporter fails. Its payment is
    cancelled at Stripe first (marked ``canceling``, so the sweeper finishes if we die), so a
    3-D Secure page still open can no longer charge the card; Stripe's answer moves the
    pledge to ``failed``, or to ``captured`` if the supporter paid a moment before. A payment
    still being made (a new card's charge) is looked for at Stripe and cancelled the same
    way. Returns how many pledges failed."""
    now = now or timezone.now()
    grace = timedelta(days=settings.SLATE_NEEDS_ACTION_GRACE_DAYS)
    overdue = dict(
        Pledge.objects.filter(
            state=PledgeState.NEEDS_ACTION,
            state_changed_at__lte=now - grace,
            slate__state=SlateState.RELEASING,
        ).values_list("pk", "slate_id")
    )
    failed = 0
    for pledge_id in overdue:
        pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
        payment = open_payment(pledge)
        if payment is not None:
            try:
                payment = cancel_payment(
                    payment_id=payment.pk, purpose=CancelPurpose.FAIL, reason=GRACE_ENDED
                )
            except (EscrowError, stripe_gateway.GatewayError) as exc:
                logger.warning("pledge %s not failed in this pass: %s", pledge_id, exc)
                continue
            pledge.refresh_from_db()
            if payment.status in Payment.OPEN:
                # Stripe has not confirmed the cancel yet (or a create may still land):
                # the sweeper finishes it, and Stripe's answer decides the pledge.
                continue
        if pledge.state == PledgeState.FAILED:
            failed += 1
            continue
        try:
            pledge_services.transition_pledge(
                pledge=pledge, to_state=PledgeState.FAILED, reason=GRACE_ENDED,
                expected_states=[PledgeState.NEEDS_ACTION],
            )  # fmt: skip
            failed += 1
        except pledge_services.PledgeError:
            continue
    for slate_id in set(overdue.values()):
        finish_release_if_done(slate_id=slate_id)
    return failed
