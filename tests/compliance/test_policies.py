"""Compliance answers pledge intake and the capture split through the slots they declare
(pledges.intake_policy, escrow.capture_policy); without it, neither takes nor captures
money."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from compliance.policies import LIMITS_ON_CAPTURES, RULES_AT_INTAKE
from escrow import holds
from escrow.capture_policy import capture_policy
from escrow.models import Payment
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.intake_policy import money_pledge_policy
from pledges.models import Pledge
from tests.compliance.helpers import slates_sharing_candidates
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory


def test_compliance_fills_both_slots_at_startup():
    assert money_pledge_policy.get() is RULES_AT_INTAKE
    assert capture_policy.get() is LIMITS_ON_CAPTURES
    call_command("check")  # the startup check finds no empty slot


@pytest.mark.django_db
def test_without_the_rules_no_money_pledge_is_taken(monkeypatch):
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    monkeypatch.setattr(money_pledge_policy, "_policy", None)
    with pytest.raises(ImproperlyConfigured, match="money pledge policy"):
        pledge_intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=5_000
        )
    assert not Pledge.objects.exists()


@pytest.mark.django_db
def test_without_the_limits_a_hold_is_not_captured(localstripe, monkeypatch):
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    payment = holds.authorize_pledge(pledge_id=pledge.pk)
    assert payment.status == Payment.Status.REQUIRES_CAPTURE
    monkeypatch.setattr(capture_policy, "_policy", None)
    with pytest.raises(ImproperlyConfigured, match="capture policy"):
        holds.capture_payment(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REQUIRES_CAPTURE
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
