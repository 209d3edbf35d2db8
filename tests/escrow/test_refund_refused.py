"""A refund Stripe refuses for good fails with the reason, staff are told, and the money it
had set aside is released; a refusal Stripe calls temporary waits for the sweeper (issue 14,
item 7).

The money is captured in localstripe; the refund itself is then asked of a stub speaking
Stripe's wire format, because localstripe refuses no refund of a captured payment."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from escrow import payouts, refunds, release, stripe_gateway, sweeper
from escrow.models import Payment, Payout, Refund
from escrow.reconcile import reconcile_slate
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.escrow.test_stripe_gateway import StubStripe
from tests.factories import make_open_slate, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db

# What Stripe answers when asked to refund a charge the cardholder disputed.
CHARGE_DISPUTED = {
    "error": {
        "type": "invalid_request_error",
        "code": "charge_disputed",
        "message": "Charge ch_1 has been charged back; cannot issue a refund.",
    }
}


class StripeAnsweringRefunds(StubStripe):
    """Lists no refunds (GET); answers a refund create (POST) with ``refund_status`` and
    ``refund_body``."""

    def __init__(self) -> None:
        self.refund_status, self.refund_body = 200, {}
        super().__init__()

    def _creating(self) -> bool:
        return bool(self.requests) and self.requests[-1][0] == "POST"

    @property
    def status(self) -> int:
        return self.refund_status if self._creating() else 200

    @status.setter
    def status(self, value: int) -> None:
        pass

    @property
    def body(self) -> dict:
        if self._creating():
            return self.refund_body
        return {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"}

    @body.setter
    def body(self, value: dict) -> None:
        pass


@pytest.fixture
def captured(localstripe, settings):
    settings.ADMINS = [("Treasurer", "treasurer@example.org")]
    slate = make_open_slate(candidates=2, min_signatures=2)
    sign(slate_candidates(slate)[0], slate)
    pledge = pledge_with_card(slate, amount_cents=10_000)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    return slate, Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)


@pytest.fixture
def stripe_refunds(localstripe, settings):
    stub = StripeAnsweringRefunds()
    settings.STRIPE_API_BASE = stub.url
    yield stub
    settings.STRIPE_API_BASE = localstripe.url
    stub.close()


def refund_all(slate, payment) -> Refund:
    return refunds.refund_payment(
        payment_id=payment.pk, amount_cents=10_000, actor=organizer_of(slate), reason="asked"
    )


def assert_books_sound(slate, localstripe, settings) -> None:
    settings.STRIPE_API_BASE = localstripe.url
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


def test_a_refund_stripe_refuses_for_good_fails_with_the_reason_and_staff_are_told(
    captured, stripe_refunds, localstripe, settings, django_capture_on_commit_callbacks
):
    slate, payment = captured
    stripe_refunds.refund_status, stripe_refunds.refund_body = 400, CHARGE_DISPUTED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_all(slate, payment)
    assert refund.status == Refund.Status.FAILED
    assert refund.last_error.startswith("charge_disputed: ")
    assert "charged back" in refund.last_error
    [alert] = mail.outbox
    assert alert.to == ["treasurer@example.org"]
    assert f"pledge #{payment.pledge_id}" in alert.subject
    assert "charge_disputed" in alert.body and "$100 " in alert.body
    payment.refresh_from_db()
    assert payment.refunded_cents == 0
    assert payment.pledge.state == PledgeState.CAPTURED
    # Released: the sweeper does not ask again, and pays the candidate the whole capture.
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert len([r for r in stripe_refunds.requests if r[0] == "POST"]) == 1
    payout = Payout.objects.get(slate=slate)
    assert (payout.status, payout.amount_cents) == (Payout.Status.RECORDED, 10_000)
    assert_books_sound(slate, localstripe, settings)


def test_a_refund_stripe_answers_as_failed_is_failed_with_that_status(
    captured, stripe_refunds, localstripe, settings, django_capture_on_commit_callbacks
):
    slate, payment = captured
    stripe_refunds.refund_body = {
        "id": "re_failed", "object": "refund", "amount": 10_000, "currency": "usd",
        "status": "failed", "payment_intent": payment.payment_intent_id, "metadata": {},
    }  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_all(slate, payment)
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.FAILED, "re_failed")
    assert "failed" in refund.last_error
    assert len(mail.outbox) == 1
    assert payouts.schedule_payouts(slate_id=slate.pk)[0].amount_cents == 10_000
    assert_books_sound(slate, localstripe, settings)


def test_a_refund_stripe_refuses_for_now_stays_reserved_for_the_sweeper(
    captured, stripe_refunds, localstripe, settings
):
    slate, payment = captured
    stripe_refunds.refund_status = 503
    stripe_refunds.refund_body = {"error": {"type": "api_error", "message": "Try later"}}
    with pytest.raises(stripe_gateway.GatewayError) as busy:
        refund_all(slate, payment)
    assert busy.value.retryable
    refund = Refund.objects.get()
    assert (refund.status, refund.last_error) == (Refund.Status.CREATING, "")
    assert payouts.schedule_payouts(slate_id=slate.pk) == []  # still set aside
    settings.STRIPE_API_BASE = localstripe.url  # Stripe is back
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert not Payout.objects.exists()
    assert_books_sound(slate, localstripe, settings)
