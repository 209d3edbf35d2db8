"""Payments Stripe makes or completes for a pledge that is no longer live are let go at once.

A create still on its way when the supporter cancels, the slate expires or the grace period
ends; a 3-D Secure page completed after the pledge failed: a hold is cancelled at Stripe, money
already taken is booked and refunded in full with the supporter told, and nothing is ever
created again for a pledge that has ended. Against localstripe; the books and Stripe agree
after every scenario.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from escrow import holds, payments, stripe_gateway, sweeper, tasks, voiding
from escrow import needs_action as escrow_needs_action
from escrow.models import LedgerEntry, Payment, Refund
from escrow.reconcile import reconcile_slate
from escrow.refunds import send_refund
from escrow.selectors import balance, ledger_problems
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import NEEDS_AUTH_ALWAYS, pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db

AN_HOUR_LATER = timedelta(hours=1)


def books_and_stripe_agree(slate) -> None:
    assert ledger_problems() == []
    assert reconcile_slate(Slate.objects.get(pk=slate.pk)) == []


def payment_row_only(monkeypatch, pledge, purpose=Payment.Purpose.HOLD) -> Payment:
    """The payment row written and committed, its create not yet sent (a worker between the
    two steps: still to send, or dead)."""
    with monkeypatch.context() as patch:
        patch.setattr(holds, "send_create", lambda payment: payment)
        from_states = (PledgeState.COMMITTED, PledgeState.NEEDS_ACTION)
        payment = holds.authorize_pledge(
            pledge_id=pledge.pk, purpose=purpose, from_states=from_states
        )
    assert payment.status == Payment.Status.CREATING
    return Payment.objects.select_related("card_setup__customer", "pledge__slate").get(
        pk=payment.pk
    )


def create_reaches_stripe_unrecorded(payment: Payment) -> stripe_gateway.PaymentIntentResult:
    """What ``send_create`` asks Stripe for, with the answer lost (the worker died)."""
    create = (
        stripe_gateway.create_hold
        if payment.purpose == Payment.Purpose.HOLD
        else stripe_gateway.charge_off_session
    )
    return create(
        customer_id=payment.card_setup.customer.customer_id,
        payment_method_id=payment.card_setup.payment_method_id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        idempotency_key=payment.idempotency_key("create"),
        metadata={"pledge_id": payment.pledge_id, "payment_id": payment.pk},
    )


def intent_statuses(localstripe, pledge) -> list[str]:
    return [pi["status"] for pi in localstripe.payment_intents_for(pledge_id=pledge.pk)]


def releasing_slate():
    slate = make_open_slate(candidates=2, min_signatures=1)
    sign(slate_candidates(slate)[0], slate)
    return slate


def start_releasing(slate) -> None:
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)


# --- item 4: a hold landing on a pledge that is no longer live -----------------------------------


def test_a_hold_landing_after_the_supporter_cancelled_is_released_by_the_recorder(
    localstripe, monkeypatch
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)

    voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CANCELLED
    # The worker that wrote the row now sends its create: the hold lands on a dead pledge.
    holds.send_create(payment)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    books_and_stripe_agree(slate)


def test_cancelling_a_pledge_whose_hold_reached_stripe_unrecorded_releases_it(
    localstripe, monkeypatch
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)
    create_reaches_stripe_unrecorded(payment)

    voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)

    pledge.refresh_from_db()
    payment.refresh_from_db()
    assert pledge.state == PledgeState.CANCELLED
    assert payment.status == Payment.Status.CANCELED
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    books_and_stripe_agree(slate)


def test_the_expiry_void_releases_a_hold_that_was_being_placed(localstripe, monkeypatch):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)
    create_reaches_stripe_unrecorded(payment)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.EXPIRED)

    tasks.void_expired_slate_holds(slate.pk)

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    assert not Payment.objects.filter(pledge=pledge, status__in=Payment.OPEN).exists()
    books_and_stripe_agree(slate)


def test_the_sweeper_releases_a_hold_that_landed_on_a_voided_pledge(localstripe, monkeypatch):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)
    create_reaches_stripe_unrecorded(payment)  # ...and the worker died
    # The slate expires; the pledges app voids the committed pledge without looking at money.
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.EXPIRED)
    Pledge.objects.filter(pk=pledge.pk).update(state=PledgeState.VOIDED)

    sweeper.sweep(now=timezone.now() + AN_HOUR_LATER)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert intent_statuses(localstripe, pledge) == ["canceled"]  # found, not made again
    books_and_stripe_agree(slate)


def test_the_sweeper_never_sends_a_create_again_for_a_pledge_no_longer_live(
    localstripe, monkeypatch
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)  # the create never left
    Pledge.objects.filter(pk=pledge.pk).update(state=PledgeState.VOIDED)

    sweeper.sweep(now=timezone.now() + AN_HOUR_LATER)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert localstripe.payment_intents_for(pledge_id=pledge.pk) == []
    books_and_stripe_agree(slate)


def test_no_hold_is_placed_on_a_slate_that_is_no_longer_open(localstripe):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.EXPIRED)

    assert holds.authorize_pledge(pledge_id=pledge.pk) is None

    assert not Payment.objects.filter(pledge=pledge).exists()
    assert localstripe.payment_intents_for(pledge_id=pledge.pk) == []


# --- item 1: the grace period ends, and a payment completed after it ----------------------------


@pytest.fixture
def needs_action(localstripe, django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate, card=NEEDS_AUTH_ALWAYS, amount_cents=4_200)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    return pledge, pledge.payments.get(status=Payment.Status.REQUIRES_ACTION)


def test_the_grace_failure_cancels_the_payment_intent_at_stripe_first(needs_action, localstripe):
    pledge, payment = needs_action

    assert (
        escrow_needs_action.fail_overdue_needs_action(now=timezone.now() + timedelta(days=8)) == 1
    )

    pledge.refresh_from_db()
    payment.refresh_from_db()
    assert pledge.state == PledgeState.FAILED
    assert payment.status == Payment.Status.CANCELED
    # The completion page still open in the supporter's browser can no longer charge them.
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    books_and_stripe_agree(pledge.slate)


def test_a_grace_failure_stopped_by_a_crash_is_finished_by_the_sweeper(
    needs_action, localstripe, monkeypatch
):
    pledge, payment = needs_action

    def stripe_down(**kwargs):
        raise stripe_gateway.GatewayError("api_connection_error", "down", retryable=True)

    with monkeypatch.context() as patch:
        patch.setattr(stripe_gateway, "cancel", stripe_down)
        assert (
            escrow_needs_action.fail_overdue_needs_action(now=timezone.now() + timedelta(days=8))
            == 0
        )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELING  # the intent, recorded first
    assert payment.cancel_purpose == payments.CancelPurpose.FAIL

    sweeper.sweep(now=timezone.now() + timedelta(days=8))

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.FAILED
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    books_and_stripe_agree(pledge.slate)


def test_a_payment_completed_as_the_grace_ends_captures_the_pledge(needs_action, localstripe):
    pledge, payment = needs_action
    # The supporter confirms a moment before the cancel reaches Stripe.
    localstripe.authenticate_payment_intent(payment.payment_intent_id)

    escrow_needs_action.fail_overdue_needs_action(now=timezone.now() + timedelta(days=8))

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    books_and_stripe_agree(pledge.slate)


def test_a_payment_completed_after_the_pledge_failed_is_refunded_and_the_supporter_told(
    needs_action, localstripe, django_capture_on_commit_callbacks
):
    pledge, payment = needs_action
    # How the grace failure used to leave it: failed on our side, still live at Stripe.
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    escrow_needs_action.fail_overdue_needs_action(now=timezone.now() + timedelta(days=8))
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.FAILED
    mail.outbox.clear()
    # The supporter completes 3-D Secure on the page still open; Stripe's webhook follows.
    localstripe.authenticate_payment_intent(payment.payment_intent_id)

    with django_capture_on_commit_callbacks(execute=True):
        escrow_needs_action.refresh_payment(payment_id=payment.pk)

    payment.refresh_from_db()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.FAILED  # it stays failed, it counts for nobody
    assert payment.status == Payment.Status.SUCCEEDED and payment.unwanted_at is not None
    assert (payment.captured_cents, payment.refunded_cents) == (4_200, 4_200)
    [refund] = Refund.objects.filter(payment=payment)
    assert refund.status == Refund.Status.SUCCEEDED
    assert localstripe.captured_cents_for(pledge_id=pledge.pk) == 4_200
    refunded = localstripe.list_all("/v1/refunds", payment_intent=payment.payment_intent_id)
    assert sum(r["amount"] for r in refunded) == 4_200
    assert balance("supporter_refunds_due") == 0
    assert not LedgerEntry.objects.filter(account="candidate_payable", pledge=pledge).exists()
    [email] = [m for m in mail.outbox if m.to == [pledge.supporter.email]]
    assert "refunded" in email.subject and "$42" in email.body
    books_and_stripe_agree(pledge.slate)


def test_a_charge_landing_after_its_pledge_was_voided_is_refunded(
    localstripe, monkeypatch, django_capture_on_commit_callbacks
):
    slate = releasing_slate()
    pledge = pledge_with_card(slate, amount_cents=3_000)
    start_releasing(slate)
    payment = payment_row_only(monkeypatch, pledge, purpose=Payment.Purpose.CHARGE)
    voiding.void_pledge(pledge_id=pledge.pk, reason="the pledge's own conditions were not met")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED

    with django_capture_on_commit_callbacks(execute=True):
        holds.send_create(payment)  # the charge was already on its way

    payment.refresh_from_db()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED
    assert (payment.captured_cents, payment.refunded_cents) == (3_000, 3_000)
    assert localstripe.captured_cents_for(pledge_id=pledge.pk) == 3_000
    refunded = localstripe.list_all("/v1/refunds", payment_intent=payment.payment_intent_id)
    assert sum(r["amount"] for r in refunded) == 3_000
    books_and_stripe_agree(slate)


def test_check_ledger_reports_unwanted_money_whose_refund_is_not_on_its_way(
    needs_action, localstripe
):
    _, payment = needs_action
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    localstripe.authenticate_payment_intent(payment.payment_intent_id)
    escrow_needs_action.refresh_payment(payment_id=payment.pk)  # the refund task is not run
    assert ledger_problems() == []  # booked as owed back, its refund on its way
    Refund.objects.filter(payment=payment).update(status=Refund.Status.FAILED)

    assert ledger_problems() == [
        f"payment {payment.pk}: 4200 taken after its pledge ended and not refunded"
    ]


def test_a_hold_recorded_after_its_slate_expired_is_released_and_its_pledge_voided(
    localstripe, monkeypatch
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = payment_row_only(monkeypatch, pledge)
    made = create_reaches_stripe_unrecorded(payment)
    # The expiry's void passes the pledge by (it looked unheld); then the answer is recorded.
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.EXPIRED)

    payments.record_payment_intent(payment_id=payment.pk, result=made)

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED
    assert intent_statuses(localstripe, pledge) == ["canceled"]
    books_and_stripe_agree(slate)


def test_a_supporter_whose_refund_notice_was_lost_is_told_by_the_sweeper(needs_action, localstripe):
    pledge, payment = needs_action
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    localstripe.authenticate_payment_intent(payment.payment_intent_id)
    escrow_needs_action.refresh_payment(payment_id=payment.pk)  # its tasks' messages are lost
    [refund] = Refund.objects.filter(payment=payment)
    send_refund(refund_id=refund.pk)
    mail.outbox.clear()

    sweeper.sweep(now=timezone.now() + AN_HOUR_LATER)
    sweeper.sweep(now=timezone.now() + AN_HOUR_LATER)

    [email] = [m for m in mail.outbox if m.to == [pledge.supporter.email]]
    assert "refunded" in email.subject
    books_and_stripe_agree(pledge.slate)
