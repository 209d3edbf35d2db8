"""The matching rule on its own: unit and property tests (no database)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from slate import geo
from volunteers.matching import (
    EITHER,
    IN_PERSON,
    REMOTE,
    Campaign,
    Offer,
    can_take,
    match_offers,
    reach,
)

ZIPS = ["94110", "90012", "10001", "14604", "73301", "19104", "43215", "07030", "33101", "98101"]


def campaign(candidate_id, state, office_zip=""):
    place = geo.zip_place(office_zip) if office_zip else geo.state_centre(state)
    return Campaign(candidate_id, f"Candidate {candidate_id}", state, place, office_zip)


def offer(pledge_id, zip_code, mode=EITHER, hours=10):
    return Offer(pledge_id, hours, mode, geo.zip_place(zip_code), zip_code)


CAMPAIGNS = [campaign(1, "CA"), campaign(2, "NY"), campaign(3, "TX")]


def test_an_in_person_volunteer_goes_to_the_campaign_in_their_state():
    [result] = match_offers([offer(1, "14604", IN_PERSON)], CAMPAIGNS)
    assert (result.candidate_id, result.mode) == (2, IN_PERSON)
    assert "in your state" in result.reason
    assert result.distance_miles == geo.distance_miles(
        geo.zip_place("14604"), geo.state_centre("NY")
    )


def test_a_campaign_office_nearby_takes_a_volunteer_across_the_state_line():
    campaigns = [campaign(1, "CA"), campaign(2, "NY", office_zip="10001")]
    [result] = match_offers([offer(1, "07030", IN_PERSON)], campaigns)
    assert result.candidate_id == 2
    assert result.distance_miles < 10
    assert "near you" in result.reason and "10001" in result.reason


def test_an_in_person_volunteer_nobody_can_reach_is_unmatched_with_the_reason():
    [result] = match_offers([offer(1, "33101", IN_PERSON)], CAMPAIGNS)
    assert result.candidate_id is None
    assert "No signed campaign" in result.reason


def test_either_without_a_campaign_in_reach_goes_remote():
    [result] = match_offers([offer(1, "33101", EITHER)], CAMPAIGNS)
    assert result.mode == REMOTE and result.candidate_id is not None
    assert "No campaign is within reach" in result.reason


def test_remote_help_goes_to_the_campaign_with_the_fewest_hours():
    results = match_offers(
        [offer(1, "94110", IN_PERSON, hours=30), offer(2, "10001", IN_PERSON, hours=20),
         offer(3, "98101", REMOTE, hours=5)],
        CAMPAIGNS,
    )  # fmt: skip
    assert results[2].candidate_id == 3  # TX had nothing
    assert "fewest volunteer hours matched (0)" in results[2].reason


def test_existing_matches_count_toward_the_load():
    [result] = match_offers(
        [offer(9, "98101", REMOTE)], CAMPAIGNS, existing_hours={1: 0, 2: 5, 3: 4}
    )
    assert result.candidate_id == 1


def test_two_campaigns_in_one_state_share_its_volunteers():
    campaigns = [campaign(1, "CA"), campaign(2, "CA")]
    results = match_offers([offer(i, "94110", IN_PERSON) for i in range(1, 11)], campaigns)
    assert sorted(r.candidate_id for r in results).count(1) == 5


def test_with_no_signed_campaign_nobody_is_matched():
    [result] = match_offers([offer(1, "94110")], [])
    assert result.candidate_id is None


# --- Properties -------------------------------------------------------------------------------

offers_strategy = st.lists(
    st.builds(
        lambda zip_code, mode, hours: (zip_code, mode, hours),
        st.sampled_from(ZIPS),
        st.sampled_from([IN_PERSON, REMOTE, EITHER]),
        st.integers(1, 60),
    ),
    max_size=60,
)
campaigns_strategy = st.lists(
    st.sampled_from(["CA", "NY", "TX", "PA", "OH", "FL", "WA", "NJ"]), max_size=6
)


def build(offer_specs, campaign_states):
    offers = [offer(i + 1, z, m, h) for i, (z, m, h) in enumerate(offer_specs)]
    campaigns = [campaign(100 + i, s) for i, s in enumerate(campaign_states)]
    return offers, campaigns


@settings(max_examples=200, deadline=None)
@given(offers_strategy, campaigns_strategy)
def test_everyone_any_campaign_can_take_is_matched(offer_specs, campaign_states):
    offers, campaigns = build(offer_specs, campaign_states)
    results = {r.pledge_id: r for r in match_offers(offers, campaigns)}
    for item in offers:
        takers = [c for c in campaigns if can_take(item, c)]
        result = results[item.pledge_id]
        if takers:
            assert result.candidate_id in {c.candidate_id for c in takers}
            if result.mode == IN_PERSON:
                chosen = next(c for c in campaigns if c.candidate_id == result.candidate_id)
                assert reach(item, chosen) is not None
        else:
            assert result.candidate_id is None
        assert result.reason


@settings(max_examples=200, deadline=None)
@given(offers_strategy, campaigns_strategy, st.randoms(use_true_random=False))
def test_the_rule_is_stable_whatever_the_input_order(offer_specs, campaign_states, rng):
    offers, campaigns = build(offer_specs, campaign_states)
    first = match_offers(offers, campaigns)
    shuffled_offers, shuffled_campaigns = offers[:], campaigns[:]
    rng.shuffle(shuffled_offers)
    rng.shuffle(shuffled_campaigns)
    assert match_offers(shuffled_offers, shuffled_campaigns) == first
    assert match_offers(offers, campaigns) == first


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=80),
    st.lists(st.integers(0, 200), min_size=1, max_size=8),
)
def test_remote_help_balances_the_campaigns(remote_hours, starting_loads):
    """Every campaign that received remote help ends within one (largest) remote pledge of
    the least-helped campaign."""
    campaigns = [campaign(100 + i, "CA") for i in range(len(starting_loads))]
    existing = {100 + i: load for i, load in enumerate(starting_loads)}
    offers = [Offer(i + 1, h, REMOTE, None) for i, h in enumerate(remote_hours)]
    results = match_offers(offers, campaigns, existing)
    load = dict(existing)
    helped = set()
    for item, result in zip(offers, results, strict=True):
        load[result.candidate_id] += item.hours
        helped.add(result.candidate_id)
    lowest = min(load.values())
    for candidate_id in helped:
        assert load[candidate_id] - lowest <= max(remote_hours)


def test_remote_balance_on_a_large_even_pool():
    campaigns = [campaign(i, "CA") for i in range(1, 6)]
    rng = random.Random(7)
    offers = [Offer(i, rng.randint(1, 20), REMOTE, None) for i in range(1, 501)]
    load = dict.fromkeys(range(1, 6), 0)
    for item, result in zip(offers, match_offers(offers, campaigns), strict=True):
        load[result.candidate_id] += item.hours
    assert max(load.values()) - min(load.values()) <= 20
