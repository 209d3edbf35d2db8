"""What Stripe keeps of a capture is booked once: stripe_fees debited, platform_clearing
credited; candidates are still owed the whole capture."""

import pytest

from escrow import fees, release, selectors, stripe_gateway, tasks
from escrow.models import LedgerAccount, LedgerTransaction, Payment
from escrow.selectors import balance, candidate_payable_cents, ledger_problems
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db
A = LedgerAccount


@pytest.fixture
def captured(localstripe):
    """A $40.00 pledge captured for the one signed candidate."""
    slate = make_open_slate(candidates=1, min_signatures=1)
    (candidate,) = slate_candidates(slate)
    sign(candidate, slate)
    pledge = pledge_with_card(slate, amount_cents=4_000)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    payment = Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)
    return payment, candidate


def test_the_fee_localstripe_reports_is_read_over_http_and_recorded(captured):
    """localstripe's balance transactions carry no fee: 0 is recorded, nothing is posted."""
    payment, _ = captured
    assert stripe_gateway.retrieve_charge_fee(payment.payment_intent_id) == 0
    assert selectors.payment_ids_with_unbooked_fees() == [payment.pk]
    assert tasks.book_stripe_fees() == 1
    payment.refresh_from_db()
    assert payment.fee_cents == 0
    assert selectors.payment_ids_with_unbooked_fees() == []
    assert not LedgerTransaction.objects.filter(kind="fee").exists()
    assert ledger_problems() == []


def test_a_fee_is_booked_once_and_the_candidate_is_still_owed_everything(captured, monkeypatch):
    payment, candidate = captured
    clearing_before = balance(A.PLATFORM_CLEARING)
    monkeypatch.setattr(stripe_gateway, "retrieve_charge_fee", lambda _id: 146)
    assert tasks.book_stripe_fees() == 1
    assert tasks.book_stripe_fees() == 0  # booked already: not asked again
    assert fees.book_stripe_fee(payment_id=payment.pk) == 146  # a direct retry: no-op
    assert LedgerTransaction.objects.filter(kind="fee").count() == 1
    assert balance(A.STRIPE_FEES) == 146
    assert balance(A.PLATFORM_CLEARING) == clearing_before - 146
    assert candidate_payable_cents(candidate.pk) == 4_000
    assert ledger_problems() == []


def test_an_unsettled_charge_is_asked_again_later(captured, monkeypatch):
    payment, _ = captured
    monkeypatch.setattr(stripe_gateway, "retrieve_charge_fee", lambda _id: None)
    assert tasks.book_stripe_fees() == 0
    payment.refresh_from_db()
    assert payment.fee_cents is None
    assert selectors.payment_ids_with_unbooked_fees() == [payment.pk]


def test_check_ledger_notices_a_fee_booked_differently_from_stripe(captured, monkeypatch):
    payment, _ = captured
    monkeypatch.setattr(stripe_gateway, "retrieve_charge_fee", lambda _id: 146)
    fees.book_stripe_fee(payment_id=payment.pk)
    Payment.objects.filter(pk=payment.pk).update(fee_cents=150)
    assert ledger_problems() == [f"payment {payment.pk}: Stripe fee 150 but 146 booked"]
