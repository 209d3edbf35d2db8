"""A candidate is never paid more than owed: refunds count money reserved in payouts not yet
posted, and a payout is sent for what is owed when it is sent (issue 14, item 3)."""

import pytest
from django.contrib.auth.models import Permission

from escrow import errors, payouts, refunds, release, stripe_gateway, stripe_payouts
from escrow.models import CandidatePayoutAccount, Payment, Payout, Refund
from escrow.reconcile import reconcile_slate
from escrow.selectors import candidate_payable_cents, candidate_payouts, ledger_problems
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import User, make_open_slate, make_staff, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(localstripe):
    """$100 captured for one signed candidate with a Stripe Connect account, not paid yet."""
    slate = make_open_slate(candidates=2, min_signatures=2)
    candidate = slate_candidates(slate)[0]
    sign(candidate, slate)
    CandidatePayoutAccount.objects.create(candidate=candidate, stripe_account_id="acct_candidate")
    pledge = pledge_with_card(slate, amount_cents=10_000)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    stripe_payouts.payout_gateway().clear()
    payment = Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)
    return slate, candidate, payment


@pytest.fixture
def failed_payout(captured, settings):
    """The transfer was refused for good (localstripe has no Connect): the payout failed and
    its $100 stays reserved."""
    slate, candidate, payment = captured
    settings.SLATE_PAYOUT_GATEWAY = "stripe_connect"
    (payout,) = payouts.schedule_payouts(slate_id=slate.pk)
    payout = payouts.send_payout(payout_id=payout.pk)
    assert payout.status == Payout.Status.FAILED and payout.amount_cents == 10_000
    # Staff fix the account; the recording gateway stands in for a Connect that works.
    settings.SLATE_PAYOUT_GATEWAY = "recording"
    return slate, candidate, payment, payout


def treasurer() -> User:
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="manage_payouts"))
    return User.objects.get(pk=staff.pk)


def refund_in_stripe_dashboard(payment: Payment, amount_cents: int) -> None:
    """A refund made outside Slate, learnt from its ``charge.refunded`` webhook."""
    stripe_gateway.refund(
        payment_intent_id=payment.payment_intent_id, amount_cents=amount_cents,
        idempotency_key=f"dashboard-{payment.pk}-{amount_cents}", metadata={},
    )  # fmt: skip
    refunds.adopt_refunds_made_in_stripe(payment_id=payment.pk)


def assert_books_sound(slate) -> None:
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


def test_a_refund_cannot_take_money_reserved_in_a_failed_payout(failed_payout):
    slate, candidate, payment, payout = failed_payout
    with pytest.raises(errors.EscrowError) as refused:
        refunds.refund_payment(
            payment_id=payment.pk, amount_cents=2_500, actor=organizer_of(slate), reason="asked"
        )
    assert (refused.value.code, refused.value.field) == ("paid_out", "amount_cents")
    assert not Refund.objects.exists()
    sent = payouts.send_failed_payout_again(payout_id=payout.pk, actor=treasurer())
    assert (sent.status, sent.amount_cents) == (Payout.Status.PAID, 10_000)
    assert candidate_payable_cents(candidate.pk, slate.pk) == 0
    assert_books_sound(slate)


def test_a_refund_cannot_take_money_reserved_in_a_pending_payout(captured):
    slate, _, payment = captured
    (payout,) = payouts.schedule_payouts(slate_id=slate.pk)
    with pytest.raises(errors.EscrowError) as refused:
        refunds.refund_payment(
            payment_id=payment.pk, amount_cents=1, actor=organizer_of(slate), reason="asked"
        )
    assert refused.value.code == "paid_out"
    payout = payouts.send_payout(payout_id=payout.pk)
    assert (payout.status, payout.amount_cents) == (Payout.Status.PAID, 10_000)
    assert_books_sound(slate)


def test_send_again_after_a_refund_in_stripe_pays_only_what_is_still_owed(failed_payout):
    """The refund happened anyway (in the Stripe dashboard): sending the failed payout again
    re-reads what is owed instead of paying the amount fixed when it was scheduled."""
    slate, candidate, payment, payout = failed_payout
    refund_in_stripe_dashboard(payment, 2_500)
    sent = payouts.send_failed_payout_again(payout_id=payout.pk, actor=treasurer())
    assert (sent.status, sent.amount_cents) == (Payout.Status.PAID, 7_500)
    [transfer] = stripe_payouts.payout_gateway().transfers
    assert (transfer.amount_cents, transfer.destination_account_id) == (7_500, "acct_candidate")
    assert candidate_payable_cents(candidate.pk, slate.pk) == 0
    assert payouts.schedule_payouts(slate_id=slate.pk) == []
    assert_books_sound(slate)


def test_a_payout_with_nothing_left_owed_is_canceled_not_sent(failed_payout):
    slate, candidate, payment, payout = failed_payout
    refund_in_stripe_dashboard(payment, 10_000)
    canceled = payouts.send_failed_payout_again(payout_id=payout.pk, actor=treasurer())
    assert canceled.status == Payout.Status.CANCELED
    assert stripe_payouts.payout_gateway().transfers == []
    assert list(candidate_payouts(candidate.pk)) == []  # nothing "sent to you"
    assert payouts.schedule_payouts(slate_id=slate.pk) == []
    assert_books_sound(slate)


def test_a_pending_payout_is_sent_for_what_is_owed_when_it_is_sent(captured):
    slate, _, payment = captured
    (payout,) = payouts.schedule_payouts(slate_id=slate.pk)
    refund_in_stripe_dashboard(payment, 1_000)
    sent = payouts.send_payout(payout_id=payout.pk)
    assert (sent.status, sent.amount_cents) == (Payout.Status.PAID, 9_000)
    assert_books_sound(slate)


def test_money_a_refund_is_still_asking_stripe_for_is_not_paid_out(captured):
    """A refund row written but not yet answered by Stripe (a crash, or Stripe slow): a payout
    scheduled meanwhile leaves its share alone, and the sweeper finishes the refund."""
    from escrow import sweeper

    slate, candidate, payment = captured
    refund = Refund.objects.create(
        payment=payment, number=1, amount_cents=4_000, reason="asked", requested_by=None
    )
    (payout,) = payouts.schedule_payouts(slate_id=slate.pk)
    assert payout.amount_cents == 6_000
    assert payouts.send_payout(payout_id=payout.pk).status == Payout.Status.PAID
    refunds.send_refund(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert candidate_payable_cents(candidate.pk, slate.pk) == 0
    assert sweeper.sweep() is not None
    assert_books_sound(slate)
