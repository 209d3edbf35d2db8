"""Holds are placed only when the deadline nears, and renewed before they lapse."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escrow import holds, selectors, tasks
from escrow.models import Payment
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.models import Slate
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate

pytestmark = pytest.mark.django_db


def test_no_hold_while_the_deadline_is_far(localstripe):
    slate = make_open_slate()  # deadline in 30 days
    pledge_with_card(slate)
    assert selectors.pledge_ids_due_for_hold() == []
    assert tasks.place_and_renew_holds() == {"placed": 0, "renewed": 0}


def test_holds_are_placed_once_the_deadline_is_within_the_window(localstripe, settings):
    settings.SLATE_HOLD_WINDOW_HOURS = 96
    slate = make_open_slate()
    pledges = [pledge_with_card(slate) for _ in range(3)]
    Slate.objects.filter(pk=slate.pk).update(deadline=timezone.now() + timedelta(hours=90))
    assert tasks.place_and_renew_holds() == {"placed": 3, "renewed": 0}
    for pledge in pledges:
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.AUTHORIZED
    # Running again places nothing new.
    assert tasks.place_and_renew_holds() == {"placed": 0, "renewed": 0}
    assert len(localstripe.payment_intents_for(pledge_id=pledges[0].pk)) == 1
    assert ledger_problems() == []


def test_a_lapsing_hold_is_replaced_by_a_fresh_one(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    first = holds.authorize_pledge(pledge_id=pledge.pk)
    Payment.objects.filter(pk=first.pk).update(expires_at=timezone.now() + timedelta(hours=2))
    assert tasks.place_and_renew_holds()["renewed"] == 1
    first.refresh_from_db()
    assert first.status == Payment.Status.CANCELED
    second = pledge.payments.get(status=Payment.Status.REQUIRES_CAPTURE)
    assert second.attempt == 2
    assert second.expires_at > timezone.now() + timedelta(days=1)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.AUTHORIZED
    assert localstripe.get(f"/v1/payment_intents/{first.payment_intent_id}")["status"] == (
        "canceled"
    )
    assert ledger_problems() == []


# A hold, in its two transactions (BEGIN and COMMIT included), with the Stripe call between:
# the slate's shared lock found through the pledge, the pledge's lock, its payments (the open
# one and the next attempt's number in one read), the newest card with its customer, the new
# payment; then the slate, pledge and payment locks, the payment's new status with the
# intent's id, the ledger posting (transaction and entries), the pledge's change (row,
# history, totals) (was 23: the pledge's slate looked up before the lock, the open payment and
# the last attempt read apart, the card set on the new payment by a second write, the customer
# read on its own, the intent's id written again after the whole row).
HOLD_QUERIES = 18


@pytest.mark.django_db(transaction=True)
def test_a_hold_costs_at_most_18_queries(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    with CaptureQueriesContext(connection) as captured:
        payment = holds.authorize_pledge(pledge_id=pledge.pk)
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.status == Payment.Status.REQUIRES_CAPTURE
    assert stored.attempt == 1
    assert stored.card_setup.customer.user_id == pledge.supporter_id
    assert stored.payment_intent_id == payment.payment_intent_id is not None
    assert stored.client_secret
    queries = [query["sql"] for query in captured.captured_queries]
    listing = "\n".join(f"{n:>3}. {sql[:160]}" for n, sql in enumerate(queries, 1))
    assert len(queries) <= HOLD_QUERIES, listing
