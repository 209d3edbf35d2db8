"""Refunds: partial and full, by staff or organizers, reversing the ledger."""

import pytest

from escrow import errors, holds, refunds
from escrow.models import Payment, Refund
from escrow.selectors import candidate_payable_cents, ledger_problems
from pledges.states import PledgeState
from slate import selectors as slate_selectors
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, make_open_slate, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(localstripe):
    """A pledge of $100.01 captured and allocated to two signed candidates, not yet paid out."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    for candidate in slate_candidates(slate)[:2]:
        sign(candidate, slate)
    pledge = pledge_with_card(slate, amount_cents=10_001)
    payment = holds.authorize_pledge(pledge_id=pledge.pk)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    holds.capture_payment(payment_id=payment.pk)
    pledge.refresh_from_db()
    return slate, pledge, Payment.objects.get(pk=payment.pk)


def test_partial_then_full_refund(captured, localstripe):
    slate, pledge, payment = captured
    organizer = organizer_of(slate)
    first = refunds.refund_payment(
        payment_id=payment.pk, amount_cents=2_501, actor=organizer, reason="asked"
    )
    assert first.status == Refund.Status.SUCCEEDED
    pledge.refresh_from_db()
    assert (pledge.state, pledge.refunded_cents) == (PledgeState.CAPTURED, 2_501)
    assert slate_selectors.slate_counts(slate.pk).money_captured_cents == 7_500
    a, b = slate_candidates(slate)[:2]
    assert (
        candidate_payable_cents(a.pk, slate.pk) + candidate_payable_cents(b.pk, slate.pk) == 7_500
    )
    refunds.refund_payment(payment_id=payment.pk, amount_cents=7_500, actor=organizer, reason="all")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.REFUNDED
    stripe_refunds = localstripe.list_all("/v1/refunds", payment_intent=payment.payment_intent_id)
    assert sorted(r["amount"] for r in stripe_refunds) == [2_501, 7_500]
    assert ledger_problems() == []


@pytest.mark.parametrize("amount", [0, -5, 10_002, 12.5])
def test_bad_refund_amounts_are_refused(captured, amount):
    slate, _, payment = captured
    with pytest.raises(errors.EscrowError) as excinfo:
        refunds.refund_payment(
            payment_id=payment.pk, amount_cents=amount, actor=organizer_of(slate), reason="x"
        )
    assert excinfo.value.field == "amount_cents"
    assert not Refund.objects.exists()


def test_only_staff_and_organizers_refund(captured, localstripe):
    _, pledge, payment = captured
    for actor in (UserFactory(), pledge.supporter):
        with pytest.raises(errors.EscrowError) as excinfo:
            refunds.refund_payment(payment_id=payment.pk, amount_cents=100, actor=actor, reason="x")
        assert excinfo.value.code == "forbidden"
    assert not Refund.objects.exists()
    staff = UserFactory(is_staff=True)
    refund = refunds.refund_payment(
        payment_id=payment.pk, amount_cents=100, actor=staff, reason="x"
    )
    assert (refund.status, refund.amount_cents) == (Refund.Status.SUCCEEDED, 100)
    pledge.refresh_from_db()
    assert pledge.refunded_cents == 100
    stripe_refunds = localstripe.list_all("/v1/refunds", payment_intent=payment.payment_intent_id)
    assert [r["amount"] for r in stripe_refunds] == [100]
    assert ledger_problems() == []


def test_money_already_paid_out_is_not_refunded_here(captured):
    from escrow import payouts

    slate, _, payment = captured
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)
    with pytest.raises(errors.EscrowError) as excinfo:
        refunds.refund_payment(
            payment_id=payment.pk, amount_cents=100, actor=organizer_of(slate), reason="x"
        )
    assert excinfo.value.code == "paid_out"
    assert ledger_problems() == []


def test_a_refund_needs_a_reason(captured):
    slate, _, payment = captured
    with pytest.raises(errors.EscrowError) as excinfo:
        refunds.refund_payment(
            payment_id=payment.pk, amount_cents=100, actor=organizer_of(slate), reason=" "
        )
    assert excinfo.value.field == "reason"


def test_a_refund_made_in_stripe_is_recorded_once_from_its_webhook(
    captured, client, localstripe, django_capture_on_commit_callbacks
):
    import json

    from escrow import stripe_gateway
    from tests.escrow.test_webhooks import signed

    _, pledge, payment = captured
    stripe_gateway.refund(
        payment_intent_id=payment.payment_intent_id, amount_cents=1_000,
        idempotency_key="dashboard", metadata={},
    )  # fmt: skip
    payload = json.dumps({
        "id": "evt_refunded", "object": "event", "type": "charge.refunded",
        "data": {"object": {"id": "ch_x", "payment_intent": payment.payment_intent_id}},
    }).encode()  # fmt: skip
    for event_id in ("evt_refunded", "evt_refunded_again"):
        body = payload.replace(b"evt_refunded", event_id.encode())
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/stripe/webhook/", body, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signed(body, localstripe.webhook_secret),
            )  # fmt: skip
        assert response.status_code == 200
    assert list(Refund.objects.values_list("amount_cents", "reason")) == [
        (1_000, "refunded in Stripe")
    ]
    pledge.refresh_from_db()
    assert pledge.refunded_cents == 1_000
    assert ledger_problems() == []
