"""Against localstripe: a real release's captures are contributions (limits and receipts
read them from the ledger), and deleting a donor afterwards leaves the books sound."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from compliance.privacy import delete_personal_data
from compliance.selectors import capped_allocation
from escrow.selectors import ledger_problems
from pledges import services as pledge_services
from pledges.states import PledgeState
from slate.states import SlateState
from tests.compliance.helpers import DETAILS, money_pledge, slates_sharing_candidates
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, sign

pytestmark = pytest.mark.django_db


def test_a_released_capture_counts_against_the_limit_and_is_receipted(
    localstripe, django_capture_on_commit_callbacks
):
    (first, second), people = slates_sharing_candidates(slates=2, candidates=2, min_signatures=2)
    donor = UserFactory()
    pledge = pledge_with_card(first, amount_cents=600_000, supporter=donor, donor_details=DETAILS)
    with django_capture_on_commit_callbacks(execute=True):
        for person in people:
            sign(person, first)
    first.refresh_from_db()
    pledge.refresh_from_db()
    assert first.state == SlateState.RELEASED and pledge.state == PledgeState.CAPTURED
    assert ledger_problems() == []
    # $3,000 to each candidate: $500 of room left each for this election, on any slate.
    later = money_pledge(second, donor, 200_000)
    result = capped_allocation(later, {p.pk: 100_000 for p in people}, at=timezone.now())
    assert result.capturable == {p.pk: 50_000 for p in people}
    assert result.uncaptured_cents == 100_000
    receipts = [m for m in mail.outbox if "receipt" in m.subject]
    assert len(receipts) == 1 and "Total: $6,000" in receipts[0].body
    pledge_services.cancel_pledge(pledge=later, actor=donor)
    delete_personal_data(user=donor, actor=donor)
    assert ledger_problems() == []
    call_command("check_ledger")
