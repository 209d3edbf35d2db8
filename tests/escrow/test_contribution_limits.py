"""The release never takes more than a donor may still give: against localstripe, a donor who
already gave a candidate close to the federal limit on another slate has that candidate's
share of a new pledge capped at capture (a partial capture of the hold, or a smaller
off-session charge), the excess moved to the other signed candidates only with the donor's
consent, and nothing captured at all when no candidate has room (the hold is let go)."""

import io

import pytest
from django.core.management import call_command

from compliance.models import ContributionLimit
from escrow import holds
from escrow import release as escrow_release
from escrow.models import LedgerAccount, LedgerEntry, Payment
from escrow.selectors import ledger_problems
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.states import SlateState
from tests.compliance.helpers import (
    DETAILS,
    money_pledge,
    record_capture,
    slates_sharing_candidates,
)
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, sign

pytestmark = pytest.mark.django_db(transaction=True)

FEDERAL_LIMIT = 350_000  # $3,500 per candidate per election, seeded for 2025-2026
# The donor gives their details and confirms the cap the pledge page explains.
ACCEPTED = {"donor_details": DETAILS, "accept_limit_cap": True}


def credited(pledge) -> dict[int, int]:
    entries = LedgerEntry.objects.filter(
        transaction__pledge_id=pledge.pk,
        transaction__kind="capture",
        account=LedgerAccount.CANDIDATE_PAYABLE,
    )
    return {e.candidate_id: -e.amount_cents for e in entries}


def lock_and_release(slate, candidates, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for candidate in candidates:
            sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED


def assert_books_clean() -> None:
    assert ledger_problems() == []
    out = io.StringIO()
    call_command("check_ledger", stdout=out)


@pytest.fixture
def donor_near_the_limit():
    """Two slates of the same three House candidates; the donor already gave the first
    candidate $3,450 through the first slate."""
    (earlier, later), candidates = slates_sharing_candidates(
        slates=2, candidates=3, min_signatures=3
    )
    donor = UserFactory()
    given = money_pledge(earlier, donor, FEDERAL_LIMIT - 5_000)
    record_capture(given, {candidates[0].pk: FEDERAL_LIMIT - 5_000})
    return donor, later, candidates


@pytest.mark.parametrize("held", [True, False], ids=["hold captured in part", "smaller charge"])
def test_a_share_over_the_limit_is_not_captured_without_consent(
    localstripe, donor_near_the_limit, django_capture_on_commit_callbacks, held
):
    donor, slate, (first, second, third) = donor_near_the_limit
    pledge = pledge_with_card(
        slate, amount_cents=30_000, supporter=donor, allow_reallocation=False, **ACCEPTED
    )
    if held:
        holds.authorize_pledge(pledge_id=pledge.pk)

    lock_and_release(slate, [first, second, third], django_capture_on_commit_callbacks)

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert pledge.captured_cents == 25_000  # $100 each planned; the first had $50 of room
    assert credited(pledge) == {first.pk: 5_000, second.pk: 10_000, third.pk: 10_000}
    assert localstripe.captured_cents_for(pledge_id=pledge.pk) == 25_000
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    [intent] = localstripe.payment_intents_for(pledge_id=pledge.pk)
    assert intent["amount"] == (30_000 if held else 25_000)
    reason = pledge.events.get(to_state=PledgeState.CAPTURED).reason
    assert "25000 of 30000 cents" in reason and first.full_name in reason
    assert_books_clean()


def test_with_consent_the_excess_goes_to_the_other_signed_candidates(
    localstripe, donor_near_the_limit, django_capture_on_commit_callbacks
):
    donor, slate, (first, second, third) = donor_near_the_limit
    pledge = pledge_with_card(
        slate, amount_cents=30_000, supporter=donor, allow_reallocation=True, **ACCEPTED
    )
    holds.authorize_pledge(pledge_id=pledge.pk)

    lock_and_release(slate, [first, second, third], django_capture_on_commit_callbacks)

    pledge.refresh_from_db()
    assert pledge.captured_cents == 30_000
    assert credited(pledge) == {first.pk: 5_000, second.pk: 12_500, third.pk: 12_500}
    assert localstripe.captured_cents_for(pledge_id=pledge.pk) == 30_000
    assert_books_clean()


def test_a_donor_with_no_room_left_is_not_charged_and_the_hold_is_let_go(
    localstripe, django_capture_on_commit_callbacks
):
    (earlier, later), candidates = slates_sharing_candidates(
        slates=2, candidates=2, min_signatures=2
    )
    donor = UserFactory()
    given = money_pledge(earlier, donor, 2 * FEDERAL_LIMIT)
    # Pledged while there was room (the pledge page refuses a pledge nobody can receive);
    # the earlier slate's capture then uses up every candidate's limit before this release.
    pledge = pledge_with_card(
        later, amount_cents=10_000, supporter=donor, allow_reallocation=True, **ACCEPTED
    )
    record_capture(given, {c.pk: FEDERAL_LIMIT for c in candidates})
    holds.authorize_pledge(pledge_id=pledge.pk)
    other = pledge_with_card(later, amount_cents=10_000)  # someone else: captured in full

    lock_and_release(later, candidates, django_capture_on_commit_callbacks)

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.VOIDED
    assert pledge.captured_cents == 0
    assert "limit" in pledge.events.get(to_state=PledgeState.VOIDED).reason
    [intent] = localstripe.payment_intents_for(pledge_id=pledge.pk)
    assert intent["status"] == "canceled"
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
    assert Payment.objects.get(pledge=pledge).status == Payment.Status.CANCELED
    assert Pledge.objects.get(pk=other.pk).captured_cents == 10_000
    assert_books_clean()


def test_a_retried_capture_asks_stripe_for_the_amount_decided_the_first_time(
    localstripe, donor_near_the_limit, monkeypatch
):
    """A crash after the capture was decided and sent: the retry must not decide again (the
    donor's room may have changed meanwhile); it asks for the same amount with the same key."""
    donor, slate, (first, second, third) = donor_near_the_limit
    pledge = pledge_with_card(slate, amount_cents=30_000, supporter=donor, **ACCEPTED)
    payment = holds.authorize_pledge(pledge_id=pledge.pk)
    from escrow import tasks

    monkeypatch.setattr(tasks.release_slate, "delay", lambda *args, **kwargs: None)
    for candidate in (first, second, third):
        sign(candidate, slate)
    escrow_release.start_release(slate_id=slate.pk)

    from escrow import stripe_gateway

    sent = []
    real_capture = stripe_gateway.capture

    def capture_then_crash(**kwargs):
        sent.append(kwargs)
        real_capture(**kwargs)
        raise stripe_gateway.GatewayError("lost", "connection lost", retryable=True)

    monkeypatch.setattr(stripe_gateway, "capture", capture_then_crash)
    with pytest.raises(stripe_gateway.GatewayError):
        holds.capture_payment(payment_id=payment.pk)
    # Meanwhile staff lower the limit to nothing: a fresh decision would take nothing at all.
    ContributionLimit.objects.update(limit_cents=0)
    monkeypatch.setattr(
        stripe_gateway, "capture", lambda **kwargs: sent.append(kwargs) or real_capture(**kwargs)
    )
    holds.capture_payment(payment_id=payment.pk)

    assert [k["amount_to_capture_cents"] for k in sent] == [25_000, 25_000]
    assert len({k["idempotency_key"] for k in sent}) == 1
    pledge.refresh_from_db()
    assert pledge.captured_cents == 25_000
    assert credited(pledge) == {first.pk: 5_000, second.pk: 10_000, third.pk: 10_000}
