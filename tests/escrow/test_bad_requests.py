"""The supporter's money pages answer a request they cannot carry out with a clear message
and leave everything as it was: never a 500 (issue 14, item 9)."""

import pytest

from escrow import cards, holds, stripe_gateway
from escrow.models import CardSetup, Payment
from escrow.selectors import ledger_problems
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.states import SlateState
from tests.compliance.helpers import (
    DETAILS,
    money_pledge,
    record_capture,
    slates_sharing_candidates,
)
from tests.escrow.cards import GOOD, NEEDS_AUTH_ALWAYS, pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign

pytestmark = pytest.mark.django_db(transaction=True)

FEDERAL_LIMIT = 350_000


def test_completing_a_payment_the_limits_leave_nothing_of_voids_it_without_a_charge(
    client, localstripe, django_capture_on_commit_callbacks
):
    """A hold that needed 3-D Secure is completed after the release started, when the donor's
    other gifts have used up every candidate's limit: the release's own rule applies (the hold
    is let go, the pledge voided), and the supporter is told why."""
    (earlier, later), candidates = slates_sharing_candidates(
        slates=2, candidates=2, min_signatures=2
    )
    donor = UserFactory()
    given = money_pledge(earlier, donor, 2 * FEDERAL_LIMIT)
    pledge = pledge_with_card(
        later, amount_cents=10_000, supporter=donor, card=NEEDS_AUTH_ALWAYS,
        donor_details=DETAILS, accept_limit_cap=True, allow_reallocation=True,
    )  # fmt: skip
    holds.authorize_pledge(pledge_id=pledge.pk)
    payment = Payment.objects.get(pledge=pledge)
    assert payment.status == Payment.Status.REQUIRES_ACTION
    record_capture(given, {c.pk: FEDERAL_LIMIT for c in candidates})
    with django_capture_on_commit_callbacks(execute=True):
        for candidate in candidates:
            sign(candidate, later)
    later.refresh_from_db()
    assert later.state == SlateState.RELEASING  # waiting for this supporter
    localstripe.authenticate_payment_intent(payment.payment_intent_id)

    client.force_login(donor)
    response = client.post(f"/pledges/{pledge.pk}/complete-payment/", follow=True)

    assert response.status_code == 200
    assert "Nothing was charged" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED
    assert "limit" in pledge.events.get(to_state=PledgeState.VOIDED).reason
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
    [intent] = localstripe.payment_intents_for(pledge_id=pledge.pk)
    assert intent["status"] == "canceled"
    assert ledger_problems() == []


def test_a_card_confirmed_for_a_pledge_that_moved_meanwhile_is_refused_cleanly(
    client, localstripe, monkeypatch
):
    """The pledge is cancelled (in another tab) just as Stripe.js saves its card: the step to
    committed is refused, the supporter is told, and nothing of the card step is recorded."""
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=make_open_slate(), amount_cents=4_000
    )
    setup = cards.start_card_setup(pledge=pledge, actor=supporter)
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=GOOD),
        idempotency_key="browser",
    )
    commit = pledge_services.commit_locked_money_pledge

    def cancelled_meanwhile(*, pledge, **kwargs):
        pledge_services.transition_pledge(
            pledge=pledge, to_state=PledgeState.CANCELLED, reason="cancelled in another tab"
        )
        return commit(pledge=Pledge.objects.select_related("slate").get(pk=pledge.pk), **kwargs)

    monkeypatch.setattr(pledge_services, "commit_locked_money_pledge", cancelled_meanwhile)
    client.force_login(supporter)
    response = client.post(f"/pledges/{pledge.pk}/card/confirm/", follow=True)

    assert response.status_code == 200
    assert "Your card was not used" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PENDING_CARD  # the whole step rolled back
    setup.refresh_from_db()
    assert setup.status == CardSetup.Status.PENDING
    assert not Payment.objects.filter(pledge=pledge).exists()
