"""A supporter replaces the card of a pledge before the lock (against localstripe): a held
pledge's hold moves to the new card, a committed pledge is charged on the new card at the
lock, and after the lock the card can no longer be changed."""

import pytest

from demo.cards import save_test_card
from escrow import cards, errors, holds
from escrow.models import Payment
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.states import SlateState
from tests.escrow.cards import GOOD, pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_CARD = "5555555555554444"


def payment_method_of(localstripe, payment_intent_id: str) -> str:
    return localstripe.get(f"/v1/payment_intents/{payment_intent_id}")["payment_method"]


def test_a_held_pledge_moves_its_hold_to_the_new_card(localstripe):
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledge = pledge_with_card(slate, amount_cents=4_000, card=GOOD)
    old = holds.authorize_pledge(pledge_id=pledge.pk)

    pledge = save_test_card(pledge, OTHER_CARD)

    assert pledge.state == PledgeState.AUTHORIZED
    old.refresh_from_db()
    assert old.status == Payment.Status.CANCELED
    assert localstripe.get(f"/v1/payment_intents/{old.payment_intent_id}")["status"] == "canceled"
    new = Payment.objects.get(pledge=pledge, status=Payment.Status.REQUIRES_CAPTURE)
    newest_card = pledge.card_setups.order_by("-pk").first()
    assert new.card_setup_id == newest_card.pk
    assert payment_method_of(localstripe, new.payment_intent_id) == newest_card.payment_method_id
    assert "card replaced" in [e.reason for e in pledge.events.all()]
    assert ledger_problems() == []


def test_a_committed_pledge_is_charged_on_the_new_card_and_the_lock_ends_changes(
    localstripe, django_capture_on_commit_callbacks, client
):
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledge = pledge_with_card(slate, amount_cents=2_500, card=GOOD)
    client.force_login(pledge.supporter)
    assert "Update card" in client.get("/pledges/").content.decode()
    pledge = save_test_card(pledge, OTHER_CARD)
    assert pledge.state == PledgeState.COMMITTED

    with django_capture_on_commit_callbacks(execute=True):
        for candidate in slate_candidates(slate):
            sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    pledge.refresh_from_db()
    assert pledge.captured_cents == 2_500
    [charge] = Payment.objects.filter(pledge=pledge)
    newest_card = pledge.card_setups.order_by("-pk").first()
    assert payment_method_of(localstripe, charge.payment_intent_id) == (
        newest_card.payment_method_id
    )

    # Locked: the card can no longer be changed, on the page or in the service.
    assert "Update card" not in client.get("/pledges/").content.decode()
    response = client.get(f"/pledges/{pledge.pk}/card/", follow=True)
    assert "can no longer be changed" in response.content.decode()
    with pytest.raises(errors.EscrowError):
        cards.start_card_setup(pledge=pledge, actor=pledge.supporter)
