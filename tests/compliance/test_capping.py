"""The arithmetic of capping a capture at the limits (no database)."""

from hypothesis import given
from hypothesis import strategies as st

from compliance.capping import cap_allocation


def test_a_share_over_the_headroom_is_capped_and_left_uncaptured_without_consent():
    result = cap_allocation({1: 10_000, 2: 10_000}, {1: 4_000, 2: None}, recipients=[1, 2, 3])
    assert result.capturable == {1: 4_000, 2: 10_000}
    assert result.capped == {1: 6_000}
    assert result.reallocated == {}
    assert result.uncaptured_cents == 6_000
    assert result.total_cents == 14_000
    assert any("not charged" in reason for reason in result.reasons)


def test_with_consent_the_excess_goes_to_the_other_signed_candidates_with_room():
    result = cap_allocation(
        {1: 10_000}, {1: 4_000, 2: 1_000, 3: None}, recipients=[1, 2, 3], allow_reallocation=True
    )
    # 6,000 over: 3,000 each offered to 2 and 3; 2 takes 1,000 (its room), 3 takes the rest.
    assert result.capturable == {1: 4_000, 2: 1_000, 3: 5_000}
    assert result.reallocated == {2: 1_000, 3: 5_000}
    assert result.uncaptured_cents == 0


def test_excess_that_fits_nowhere_stays_uncaptured_even_with_consent():
    result = cap_allocation({1: 10_000}, {1: 0, 2: 500}, recipients=[1, 2], allow_reallocation=True)
    assert result.capturable == {2: 500}
    assert result.uncaptured_cents == 9_500


def test_unlimited_candidates_are_never_capped():
    result = cap_allocation({1: 5_000_000}, {1: None}, recipients=[1])
    assert result.capturable == {1: 5_000_000} and not result.is_capped


candidate_ids = st.integers(1, 6)


@given(
    planned=st.dictionaries(candidate_ids, st.integers(0, 800_000), max_size=6),
    headroom=st.dictionaries(candidate_ids, st.none() | st.integers(-100, 800_000), max_size=6),
    recipients=st.sets(candidate_ids, max_size=6),
    allow=st.booleans(),
)
def test_no_candidate_ever_gets_more_than_its_headroom_and_no_cent_is_lost(
    planned, headroom, recipients, allow
):
    result = cap_allocation(planned, headroom, recipients=recipients, allow_reallocation=allow)
    for cid, cents in result.capturable.items():
        assert cents > 0
        room = headroom.get(cid)
        if room is not None:
            assert cents <= max(room, 0)
    assert result.total_cents + result.uncaptured_cents == sum(planned.values())
    assert set(result.reallocated) <= set(recipients) - set(result.capped)
    if not allow:
        assert result.reallocated == {}
        assert all(result.capturable[cid] <= planned[cid] for cid in result.capturable)
    if result.uncaptured_cents and allow:
        # Nothing left uncaptured while some other signed candidate still had room.
        for cid in set(recipients) - set(result.capped):
            room = headroom.get(cid)
            assert room is not None and result.capturable.get(cid, 0) >= max(room, 0)
