"""Only facts from before the deadline count: a card saved after it commits no pledge, and a
signature can be neither withdrawn nor given once it has passed; each late action gets a clear
error and changes nothing. Against localstripe."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates import services as candidate_services
from candidates import signatures as candidate_signatures
from candidates.selectors import active_signature
from escrow import cards, errors, holds, stripe_gateway, voiding
from escrow.models import Payment
from escrow.reconcile import reconcile_slate
from escrow.selectors import ledger_problems
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from slate.models import Slate
from slate.selectors import slate_counts
from slate.states import SlateState
from tests.escrow.cards import GOOD, pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def pass_the_deadline(slate) -> None:
    Slate.objects.filter(pk=slate.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    slate.refresh_from_db()


@pytest.fixture
def money_threshold_slate():
    """Every candidate signed; the rule still needs $100 of committed money."""
    slate = make_open_slate(candidates=2, min_signatures=2, min_money_cents=10_000)
    for candidate in slate_candidates(slate):
        sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    return slate


def test_a_card_saved_after_the_deadline_commits_nothing_and_the_slate_expires(
    localstripe, money_threshold_slate
):
    slate = money_threshold_slate
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=10_000
    )
    setup = cards.start_card_setup(pledge=pledge, actor=supporter)  # page opened
    pass_the_deadline(slate)
    stripe_gateway.confirm_setup_intent(  # the supporter submits the card a minute late
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=GOOD),
        idempotency_key="browser",
    )

    setup = cards.confirm_card_setup(setup_intent_id=setup.setup_intent_id)

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PENDING_CARD
    assert "deadline" in setup.last_error
    assert slate_counts(slate.pk).money_pledged_cents == 0
    assert slate_lifecycle.expire_slate_if_overdue(slate_id=slate.pk) == SlateState.EXPIRED
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


def test_no_card_can_be_added_after_the_deadline(localstripe, money_threshold_slate):
    slate = money_threshold_slate
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=10_000
    )
    pass_the_deadline(slate)
    pledge = Pledge.objects.select_related("slate").get(pk=pledge.pk)  # as the card page reads it
    with pytest.raises(errors.EscrowError) as refused:
        cards.start_card_setup(pledge=pledge, actor=supporter)
    assert refused.value.code == "deadline_passed"
    assert "deadline" in refused.value.message
    assert not pledge.card_setups.exists()


def test_a_signature_cannot_be_withdrawn_after_the_deadline():
    """The rule held at the deadline (the deadline job has not run yet): a late withdrawal
    would let the slate expire instead of locking."""
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)
    pass_the_deadline(slate)
    assert slate.state == SlateState.OPEN

    with pytest.raises(candidate_services.CandidateError) as refused:
        candidate_signatures.withdraw_signature(candidate=first, slate=slate, signer=first.user)
    assert refused.value.code == "deadline_passed"
    assert "deadline" in refused.value.message
    assert active_signature(first, slate) is not None
    assert slate_lifecycle.expire_slate_if_overdue(slate_id=slate.pk) == SlateState.LOCKED


def test_a_signature_cannot_be_given_after_the_deadline():
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    sign(first, slate)
    pass_the_deadline(slate)
    with pytest.raises(candidate_services.CandidateError) as refused:
        sign(second, slate)
    assert refused.value.code == "slate_closed"
    assert active_signature(second, slate) is None
    assert slate_lifecycle.expire_slate_if_overdue(slate_id=slate.pk) == SlateState.EXPIRED


def test_the_card_page_says_the_deadline_passed(localstripe, money_threshold_slate, client):
    slate = money_threshold_slate
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=10_000
    )
    client.force_login(supporter)
    setup = cards.start_card_setup(pledge=pledge, actor=supporter)
    pass_the_deadline(slate)
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=GOOD),
        idempotency_key="browser",
    )
    page = client.post(f"/pledges/{pledge.pk}/card/confirm/", follow=True).content.decode()
    assert "deadline passed before this card was saved" in page
    assert "You will be charged only if" not in page
    page = client.get(f"/pledges/{pledge.pk}/card/", follow=True).content.decode()
    assert "a card can no longer be added" in page
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PENDING_CARD


def test_a_pledge_cannot_be_cancelled_after_the_deadline(localstripe, money_threshold_slate):
    """The rule held at the deadline: a late cancel (hold released, money total lowered)
    would let the slate expire instead of locking."""
    slate = money_threshold_slate
    pledge = pledge_with_card(slate, amount_cents=10_000)
    hold = holds.authorize_pledge(pledge_id=pledge.pk)
    pass_the_deadline(slate)
    pledge = Pledge.objects.select_related("slate").get(pk=pledge.pk)

    with pytest.raises(errors.EscrowError) as refused:
        voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    assert refused.value.code == "deadline_passed"
    hold.refresh_from_db()
    assert hold.status == Payment.Status.REQUIRES_CAPTURE
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.AUTHORIZED
    assert slate_lifecycle.expire_slate_if_overdue(slate_id=slate.pk) == SlateState.LOCKED
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


def test_a_pledge_without_a_hold_cannot_be_cancelled_after_the_deadline(money_threshold_slate):
    slate = money_threshold_slate
    pledge = pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=10, activities=["canvassing"],
        zip_code="94110",
    )  # fmt: skip
    pass_the_deadline(slate)
    pledge = Pledge.objects.select_related("slate").get(pk=pledge.pk)
    with pytest.raises(pledge_services.PledgeError) as refused:
        pledge_services.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    assert refused.value.code == "deadline_passed"
