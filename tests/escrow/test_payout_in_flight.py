"""A payout whose transfer is in flight is never sent twice: the sweeper judges it stuck by
when sending started, and Stripe's 409 for a same-key request still in flight is a "try
again", not a refusal that would let staff send it again under a new key (issue 14, item 8).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone

from escrow import payouts, release, stripe_gateway, stripe_payouts, sweeper
from escrow.models import CandidatePayoutAccount, Payout
from escrow.reconcile import reconcile_slate
from escrow.selectors import candidate_payable_cents, ledger_problems
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.escrow.test_stripe_gateway import StubStripe
from tests.factories import User, make_open_slate, make_staff, sign, slate_candidates

pytestmark = pytest.mark.django_db

# What Stripe answers a request whose idempotency key another request is still using.
KEY_IN_USE = {
    "error": {
        "type": "idempotency_error",
        "code": "idempotency_key_in_use",
        "message": "There is currently another in-progress request using this Idempotency "
        "Key (that probably means you submitted twice, and the other request is still going "
        "through). Please try again later.",
    }
}


@pytest.fixture
def owed(localstripe, settings):
    """$50 captured for one signed candidate with a Stripe Connect account; the payout was
    scheduled an hour ago."""
    settings.ADMINS = [("Treasurer", "treasurer@example.org")]
    slate = make_open_slate(candidates=2, min_signatures=2)
    candidate = slate_candidates(slate)[0]
    sign(candidate, slate)
    CandidatePayoutAccount.objects.create(candidate=candidate, stripe_account_id="acct_candidate")
    pledge = pledge_with_card(slate, amount_cents=5_000)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    (payout,) = payouts.schedule_payouts(slate_id=slate.pk)
    Payout.objects.filter(pk=payout.pk).update(created_at=timezone.now() - timedelta(hours=1))
    return slate, candidate, payout


def assert_books_sound(slate, localstripe, settings) -> None:
    settings.STRIPE_API_BASE = localstripe.url
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


def test_the_sweeper_leaves_a_payout_alone_while_its_transfer_is_in_flight(
    owed, localstripe, settings, monkeypatch
):
    """The beat sweep runs while a worker's transfer is on its way to Stripe: the payout was
    created an hour ago, but it started sending just now, so the sweep sends nothing."""
    slate, candidate, payout = owed
    calls = []

    class SweptMidTransfer:
        def transfer(self, **request):
            calls.append(request["idempotency_key"])
            if len(calls) == 1:
                sweeper.sweep()  # the beat sweep, while this transfer is still in flight
            return stripe_gateway.TransferResult(id="tr_1", status="paid")

    monkeypatch.setattr(stripe_payouts, "payout_gateway", SweptMidTransfer)
    sent = payouts.send_payout(payout_id=payout.pk)
    assert calls == [f"payout-{payout.pk}-transfer"]
    assert (sent.status, sent.transfer_id) == (Payout.Status.PAID, "tr_1")
    assert candidate_payable_cents(candidate.pk, slate.pk) == 0
    assert_books_sound(slate, localstripe, settings)


def test_the_sweeper_resends_a_payout_stuck_sending_with_the_same_key(
    owed, localstripe, settings, monkeypatch
):
    slate, _, payout = owed
    calls = []

    class Lost:
        def transfer(self, **request):
            calls.append(request["idempotency_key"])
            if len(calls) == 1:
                raise stripe_gateway.GatewayError("api_connection_error", "lost", retryable=True)
            return stripe_gateway.TransferResult(id="tr_1", status="paid")

    monkeypatch.setattr(stripe_payouts, "payout_gateway", Lost)
    with pytest.raises(stripe_gateway.GatewayError):
        payouts.send_payout(payout_id=payout.pk)
    sweeper.sweep()  # too soon: it may still be on its way
    assert len(calls) == 1
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    assert calls == [f"payout-{payout.pk}-transfer"] * 2
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert_books_sound(slate, localstripe, settings)


def treasurer() -> User:
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="manage_payouts"))
    return User.objects.get(pk=staff.pk)


def test_a_409_for_a_request_still_in_flight_is_tried_again_not_failed(
    owed, localstripe, settings, django_capture_on_commit_callbacks
):
    """Through the real Connect gateway and Stripe's wire format: the 409 leaves the payout
    sending (no failure, no alert, nothing for staff to send again under a new key), and the
    next sweep sends the same request under the same key."""
    slate, candidate, payout = owed
    settings.SLATE_PAYOUT_GATEWAY = "stripe_connect"
    stripe = StubStripe()
    settings.STRIPE_API_BASE = stripe.url
    try:
        stripe.status, stripe.body = 409, KEY_IN_USE
        mail.outbox.clear()
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(stripe_gateway.GatewayError) as in_flight,
        ):
            payouts.send_payout(payout_id=payout.pk)
        assert (in_flight.value.code, in_flight.value.retryable) == ("idempotency_key_in_use", True)
        payout.refresh_from_db()
        assert (payout.status, payout.last_error, payout.needs_attention) == (
            Payout.Status.SENDING, "", False,
        )  # fmt: skip
        assert mail.outbox == []
        with pytest.raises(payouts.PayoutError) as refused:
            payouts.send_failed_payout_again(payout_id=payout.pk, actor=treasurer())
        assert refused.value.code == "not_failed"

        stripe.status = 200  # the first request has finished: Stripe answers with its transfer
        stripe.body = {"id": "tr_first", "object": "transfer", "amount": 5_000, "reversed": False}
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
        transfers = [r for r in stripe.requests if r[:2] == ("POST", "/v1/transfers")]
        assert [headers["Idempotency-Key"] for _, _, headers in transfers] == [
            f"payout-{payout.pk}-transfer"
        ] * 2
    finally:
        stripe.close()
    payout.refresh_from_db()
    assert (payout.status, payout.transfer_id, payout.attempt) == (
        Payout.Status.PAID, "tr_first", 1,
    )  # fmt: skip
    assert candidate_payable_cents(candidate.pk, slate.pk) == 0
    assert_books_sound(slate, localstripe, settings)
