"""Limits as data, read against the ledger: what a donor already gave a candidate on any
slate caps what a new capture may take."""

from datetime import UTC, date, datetime

import pytest

from candidates.models import Candidate
from compliance import selectors, services
from compliance.models import CaptureDecision, ContributionLimit, Donor, Election, ElectionCycle
from compliance.rules import election_on, limit_cents
from escrow.models import LedgerTransaction
from pledges import services as pledge_services
from pledges.states import PledgeState
from tests.compliance.helpers import (
    money_pledge,
    record_capture,
    record_refund,
    slates_sharing_candidates,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 10, 1, 12, tzinfo=UTC)


def pledge(slate, supporter, cents, **kwargs):
    return money_pledge(slate, supporter, cents, **kwargs)


def test_the_seeded_cycle_holds_the_2025_2026_federal_limit():
    cycle = ElectionCycle.objects.get(name="2025–2026")
    assert cycle.itemization_threshold_cents == 20_000
    limits = ContributionLimit.objects.filter(cycle=cycle)
    assert {(r.office, r.election_kind, r.limit_cents) for r in limits} == {
        ("house", "primary", 350_000), ("house", "general", 350_000),
        ("senate", "primary", 350_000), ("senate", "general", 350_000),
    }  # fmt: skip
    house = Candidate(office="house", state="CA")
    election = election_on("CA", date(2026, 3, 1))
    assert election.code == "G2026"
    assert limit_cents(house, election) == 350_000
    assert limit_cents(Candidate(office="governor", state="CA"), election) is None


def test_a_state_primary_row_splits_the_limit_into_two_elections():
    cycle = ElectionCycle.objects.get(name="2025–2026")
    Election.objects.create(cycle=cycle, kind="primary", state="CA", held_on=date(2026, 6, 2))
    assert election_on("CA", date(2026, 6, 2)).kind == "primary"
    assert election_on("CA", date(2026, 6, 3)).kind == "general"
    assert election_on("NY", date(2026, 6, 1)).kind == "general"  # no NY primary row


def test_prior_contributions_on_another_slate_cap_the_share_and_the_rest_is_not_charged():
    (first, second), (a, b, c) = slates_sharing_candidates(slates=2)
    donor = UserFactory()
    record_capture(pledge(first, donor, 345_000), {a.pk: 345_000})
    new = pledge(second, donor, 30_000)
    result = selectors.capped_allocation(
        new, {a.pk: 10_000, b.pk: 10_000, c.pk: 10_000}, at=AT, signed_candidate_ids=[a.pk, b.pk]
    )
    assert result.capturable == {a.pk: 5_000, b.pk: 10_000, c.pk: 10_000}
    assert result.capped == {a.pk: 5_000}
    assert result.uncaptured_cents == 5_000
    assert result.reallocated == {}


def test_with_the_donors_consent_the_excess_goes_to_the_other_signed_candidates():
    (first, second), (a, b, _) = slates_sharing_candidates(slates=2)
    donor = UserFactory()
    record_capture(pledge(first, donor, 345_000), {a.pk: 345_000})
    new = pledge(second, donor, 30_000, allow_reallocation=True)
    result = selectors.capped_allocation(
        new, {a.pk: 30_000}, at=AT, signed_candidate_ids=[a.pk, b.pk]
    )
    assert result.capturable == {a.pk: 5_000, b.pk: 25_000}
    assert result.reallocated == {b.pk: 25_000}
    assert result.uncaptured_cents == 0  # c did not sign: it gets nothing


def test_refunds_give_the_room_back():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    donor = UserFactory()
    old = record_capture(pledge(first, donor, 350_000), {a.pk: 350_000})
    new = pledge(second, donor, 10_000)
    assert selectors.capped_allocation(new, {a.pk: 10_000}, at=AT).total_cents == 0
    record_refund(old, {a.pk: 4_000})
    assert selectors.capped_allocation(new, {a.pk: 10_000}, at=AT).capturable == {a.pk: 4_000}


def test_contributions_of_merged_donors_add_up():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    one, other = UserFactory(), UserFactory()
    record_capture(pledge(first, other, 300_000), {a.pk: 300_000})
    new = pledge(second, one, 100_000)
    assert selectors.capped_allocation(new, {a.pk: 100_000}, at=AT).total_cents == 100_000
    survivor = services.ensure_donor(one)
    duplicate = services.ensure_donor(other)
    duplicate.merged_into = survivor
    duplicate.save()
    assert selectors.capped_allocation(new, {a.pk: 100_000}, at=AT).capturable == {a.pk: 50_000}


def test_a_primary_contribution_does_not_use_up_the_general_limit():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    cycle = ElectionCycle.objects.get(name="2025–2026")
    Election.objects.create(cycle=cycle, kind="primary", state=a.state, held_on=date(2026, 6, 2))
    donor = UserFactory()
    old = record_capture(pledge(first, donor, 350_000), {a.pk: 350_000})
    LedgerTransaction.objects.filter(pledge=old).update(created_at=datetime(2026, 5, 1, tzinfo=UTC))
    new = pledge(second, donor, 350_000)
    before_primary = datetime(2026, 5, 30, tzinfo=UTC)
    assert selectors.capped_allocation(new, {a.pk: 350_000}, at=before_primary).total_cents == 0
    after_primary = datetime(2026, 7, 1, tzinfo=UTC)
    result = selectors.capped_allocation(new, {a.pk: 350_000}, at=after_primary)
    assert result.capturable == {a.pk: 350_000}


def test_staff_edit_of_the_limit_applies_at_once():
    (_, second), (a, _, _) = slates_sharing_candidates(slates=2)
    ContributionLimit.objects.filter(office="house").update(limit_cents=1_000)
    result = selectors.capped_allocation(pledge(second, UserFactory(), 5_000), {a.pk: 5_000}, at=AT)
    assert result.capturable == {a.pk: 1_000}


def test_a_decided_but_uncaptured_pledge_counts_until_it_dies_or_is_captured():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    donor = UserFactory()
    one = pledge_services.commit_money_pledge(pledge=pledge(first, donor, 300_000))
    two = pledge(second, donor, 300_000)
    decided = services.decide_capture(pledge=one, planned={a.pk: 300_000}, at=AT)
    assert decided.capturable == {a.pk: 300_000}
    assert CaptureDecision.objects.get(pledge=one).capturable == {str(a.pk): 300_000}
    # The second pledge sees the first's decision although nothing was captured yet.
    assert services.decide_capture(pledge=two, planned={a.pk: 300_000}, at=AT).capturable == {
        a.pk: 50_000
    }
    # Deciding the first again does not count its own earlier decision.
    again = services.decide_capture(pledge=one, planned={a.pk: 300_000}, at=AT)
    assert again.capturable == {a.pk: 300_000}
    pledge_services.transition_pledge(pledge=one, to_state=PledgeState.VOIDED, reason="test")
    assert selectors.capped_allocation(two, {a.pk: 300_000}, at=AT).capturable == {a.pk: 300_000}


def test_a_pledges_own_capture_is_not_counted_against_it():
    (first, _), (a, _, _) = slates_sharing_candidates(slates=2)
    captured = record_capture(pledge(first, UserFactory(), 350_000), {a.pk: 350_000})
    assert selectors.capped_allocation(captured, {a.pk: 350_000}, at=AT).total_cents == 350_000


def test_donor_records_are_created_once_per_user():
    user = UserFactory()
    assert services.ensure_donor(user).pk == services.ensure_donor(user).pk
    assert Donor.objects.get(user=user).email == user.email


def test_ensure_donors_creates_the_missing_records_in_one_go():
    fresh, known = UserFactory(), UserFactory()
    existing = services.ensure_donor(known)
    existing.first_name, existing.city = "Rosa", "Oakland"
    existing.save()

    services.ensure_donors([fresh.pk, known.pk])
    services.ensure_donors([fresh.pk, known.pk])  # again: nothing new, nothing changed

    created = Donor.objects.get(user=fresh)
    assert created.email == fresh.email
    assert created.identity_key == created.compute_identity_key()  # as save() would set it
    assert Donor.objects.filter(user__in=[fresh, known]).count() == 2
    existing.refresh_from_db()
    assert (existing.first_name, existing.city) == ("Rosa", "Oakland")


def test_lock_donor_group_finds_the_root_and_every_merged_account():
    survivor_user, duplicate_user, stranger = UserFactory(), UserFactory(), UserFactory()
    survivor = services.ensure_donor(survivor_user)
    duplicate = services.ensure_donor(duplicate_user)
    duplicate.merged_into = survivor
    duplicate.save()
    services.ensure_donor(stranger)

    expected = (survivor.pk, sorted([survivor_user.pk, duplicate_user.pk]))
    assert services.lock_donor_group(duplicate_user.pk) == expected
    assert services.lock_donor_group(survivor_user.pk) == expected
    newcomer = UserFactory()  # no donor record yet: one is made
    root_id, group = services.lock_donor_group(newcomer.pk)
    assert Donor.objects.get(user=newcomer).pk == root_id and group == [newcomer.pk]


def test_a_shared_capture_context_decides_exactly_as_reading_alone():
    """A release decides a chunk's captures with one read of the rules and candidates; the
    answers are the ones each pledge would get on its own: caps, consent to reallocate,
    and pledges the context was not built for."""
    (first, second), (a, b, c) = slates_sharing_candidates(slates=2)
    donor, other = UserFactory(), UserFactory()
    record_capture(pledge(first, donor, 349_000), {a.pk: 349_000})
    moving = pledge(second, donor, 30_000, allow_reallocation=True)
    staying = pledge(second, donor, 30_000)
    unlisted = pledge(second, other, 9_000, allow_reallocation=True)
    signed = [a.pk, b.pk, c.pk]
    context = selectors.capture_context(pledge_ids=[moving.pk, staying.pk], candidate_ids=signed)
    for new in (moving, staying, unlisted):
        planned = {a.pk: 10_000, b.pk: 10_000, c.pk: 10_000}
        alone = selectors.capped_allocation(new, planned, at=AT, signed_candidate_ids=signed)
        shared = selectors.capped_allocation(
            new, planned, at=AT, signed_candidate_ids=signed, context=context
        )
        assert shared == alone
    capped = selectors.capped_allocation(
        moving, {a.pk: 30_000}, at=AT, signed_candidate_ids=signed, context=context
    )
    assert capped.capturable[a.pk] == 1_000 and capped.reallocated  # consent read from context
