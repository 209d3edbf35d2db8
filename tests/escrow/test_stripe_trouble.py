"""When Stripe fails or refuses, one pledge's trouble never stops the rest of a release, and
nothing is left stranded."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from escrow import holds, stripe_gateway, sweeper
from escrow.models import CardSetup, Payment
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def lock(slate, capture):
    with capture(execute=True):
        sign(slate_candidates(slate)[0], slate)
    slate.refresh_from_db()


def test_a_refused_charge_needs_the_supporter_and_the_others_are_captured(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    broken, fine = pledge_with_card(slate), pledge_with_card(slate)
    CardSetup.objects.filter(pledge=broken).update(payment_method_id="pm_gone")
    lock(slate, django_capture_on_commit_callbacks)
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert fine.state == PledgeState.CAPTURED
    assert broken.state == PledgeState.NEEDS_ACTION
    assert broken.payments.get().status == Payment.Status.FAILED
    assert slate.state == SlateState.RELEASING  # waiting for the supporter or the grace period
    assert ledger_problems() == []


def test_stripe_down_during_release_leaves_work_the_sweeper_finishes(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledges = [pledge_with_card(slate, amount_cents=1_000 + i) for i in range(3)]
    outage = stripe_gateway.GatewayError("api_connection_error", "Stripe unreachable", True)
    with mock.patch.object(stripe_gateway, "charge_off_session", side_effect=outage):
        lock(slate, django_capture_on_commit_callbacks)
    assert slate.state == SlateState.RELEASING
    assert set(Payment.objects.values_list("status", flat=True)) == {Payment.Status.CREATING}
    # Stripe is back; the sweeper (beat) finds the stranded payments and finishes the release.
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    for pledge in pledges:
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.CAPTURED
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert ledger_problems() == []


def test_a_hold_refused_before_the_lock_leaves_the_pledge_committed(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    CardSetup.objects.filter(pledge=pledge).update(payment_method_id="pm_gone")
    payment = holds.authorize_pledge(pledge_id=pledge.pk)
    assert payment.status == Payment.Status.FAILED
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.COMMITTED
