"""A card setup started before the lock and finished after it never replaces a good hold on
a locked slate: the card is saved, the hold stays for the release to capture (issue 14,
item 8)."""

import pytest

from escrow import cards, holds, stripe_gateway, tasks
from escrow.models import CardSetup, Payment
from escrow.reconcile import reconcile_slate
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db

OTHER_CARD = "5555555555554444"


def test_a_card_saved_after_the_lock_leaves_the_good_hold_for_the_release(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate, amount_cents=4_000)
    hold = holds.authorize_pledge(pledge_id=pledge.pk)
    assert hold.status == Payment.Status.REQUIRES_CAPTURE
    # The supporter opens the card page while the slate is open...
    setup = cards.start_card_setup(pledge=pledge, actor=pledge.supporter)
    # ...and the slate locks before they finish (its release not started yet).
    with django_capture_on_commit_callbacks(execute=False):
        for candidate in slate_candidates(slate):
            sign(candidate, slate)
        slate_lifecycle.evaluate_threshold(slate_id=slate.pk)
    slate.refresh_from_db()
    assert slate.state == SlateState.LOCKED
    # Stripe.js saves the new card; the page (or the webhook) records it.
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=OTHER_CARD),
        idempotency_key=f"test-card-{setup.setup_intent_id}-confirm",
    )
    cards.confirm_card_setup(setup_intent_id=setup.setup_intent_id)

    assert CardSetup.objects.get(pk=setup.pk).status == CardSetup.Status.SUCCEEDED
    hold.refresh_from_db()
    assert hold.status == Payment.Status.REQUIRES_CAPTURE
    assert localstripe.get(f"/v1/payment_intents/{hold.payment_intent_id}")["status"] == (
        "requires_capture"
    )
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.AUTHORIZED
    assert [p.pk for p in pledge.payments.all()] == [hold.pk]
    assert len(localstripe.payment_intents_for(pledge_id=pledge.pk)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        tasks.release_slate(slate.pk)
    pledge.refresh_from_db()
    hold.refresh_from_db()
    assert (pledge.state, hold.status) == (PledgeState.CAPTURED, Payment.Status.SUCCEEDED)
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []
