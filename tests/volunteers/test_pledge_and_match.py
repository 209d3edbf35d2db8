"""Volunteer pledges with their details, what waits before the lock, and matching at the lock."""

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledges.models import Pledge
from slate.selectors import slate_counts
from tests.factories import UserFactory, make_open_slate, slate_candidates
from volunteers import selectors, services
from volunteers.errors import VolunteerError
from volunteers.models import MatchChange, MatchingRound, VolunteerDetails, VolunteerMatch

from .helpers import lock, pledge_hours

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_volunteer_pledge_counts_toward_the_totals_and_keeps_its_details():
    slate = make_open_slate()
    pledge = pledge_hours(
        slate, hours=12, mode="remote", weekly_slots=["sat_morning", "mon_evening"],
        languages="Spanish, English, spanish", share_contact=True, phone="415 555 0100",
    )  # fmt: skip
    assert slate_counts(slate.pk).volunteer_hours == 12
    details = VolunteerDetails.objects.get(pledge=pledge)
    assert details.mode == "remote"
    assert details.languages == ["Spanish", "English"]
    assert details.weekly_slots == ["mon_evening", "sat_morning"]
    assert pledge.supporter_state == "CA"  # read from the ZIP code


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"zip_code": "00000"}, "zip_code", "not a US ZIP code we know"),
        ({"zip_code": "9411"}, "zip_code", "5-digit"),
        ({"hours": -3}, "hours", "at least one hour"),
        ({"hours": 0}, "hours", "at least one hour"),
        ({"mode": "teleport"}, "mode", "in person, remote or either"),
        ({"phone": "call me maybe"}, "phone", "phone number"),
        ({"weekly_slots": ["someday"]}, "weekly_slots", "from the list"),
    ],
)
def test_bad_input_is_refused_clearly_and_writes_nothing(changes, field, message):
    slate = make_open_slate()
    with pytest.raises(VolunteerError) as refused:
        pledge_hours(slate, **changes)
    assert refused.value.field == field
    assert message in refused.value.message
    assert not Pledge.objects.exists() and not VolunteerDetails.objects.exists()
    assert slate_counts(slate.pk).volunteer_hours == 0


def test_the_volunteer_sees_how_many_signatures_their_hours_wait_for():
    slate = make_open_slate(candidates=5, min_signatures=3)
    pledge = pledge_hours(slate, hours=7)
    lock(slate, signers=slate_candidates(slate)[:1])
    [waiting] = selectors.waiting_pledges(pledge.supporter)
    assert (waiting.pledge.hours, waiting.signatures_needed) == (7, 2)


def test_before_the_lock_a_campaign_sees_hours_near_it_but_nobody():
    slate = make_open_slate(candidates=3, min_signatures=3)
    california = slate_candidates(slate)[0]
    assert california.state == "CA"
    pledge_hours(slate, zip_code="94110", hours=5, share_contact=True)
    pledge_hours(slate, zip_code="90012", hours=3)
    pledge_hours(slate, zip_code="10001", hours=4)
    near = selectors.pledged_hours_near(california, slate)
    assert (near.hours_in_state, near.pledges_in_state, near.hours_everywhere) == (8, 2, 12)
    assert selectors.matched_volunteers(california, slate, california.user) == []
    assert not VolunteerMatch.objects.exists()


def match_emails():
    """The match notices (the milestone news of the lock goes to the same people)."""
    return [m for m in mail.outbox if "List-Unsubscribe" not in m.extra_headers]


def test_the_lock_matches_every_volunteer_and_tells_them_once():
    slate = make_open_slate(candidates=3, min_signatures=2)
    ca, ny, _tx = slate_candidates(slate)
    in_ca = pledge_hours(slate, zip_code="90012", mode="in_person")
    in_ny = pledge_hours(slate, zip_code="14604", mode="in_person")
    remote = pledge_hours(slate, zip_code="33101", mode="remote", hours=3)
    far_away = pledge_hours(slate, zip_code="98101", mode="in_person")
    mail.outbox.clear()  # the pledges' own confirmations
    lock(slate, signers=[ca, ny])
    assert slate.state in ("locked", "releasing", "released")

    matches = {m.pledge_id: m for m in VolunteerMatch.objects.all()}
    assert matches[in_ca.pk].candidate == ca and matches[in_ca.pk].mode == "in_person"
    assert matches[in_ny.pk].candidate == ny
    assert matches[remote.pk].mode == "remote" and matches[remote.pk].candidate in (ca, ny)
    assert matches[far_away.pk].candidate is None  # TX did not sign; WA is far from CA and NY
    assert all(m.reason for m in matches.values())
    assert MatchChange.objects.count() == 4
    assert len(match_emails()) == 4
    assert {m.to[0] for m in match_emails()} == {
        p.supporter.email for p in (in_ca, in_ny, remote, far_away)
    }
    to_ca = next(m for m in match_emails() if m.to == [in_ca.supporter.email])
    assert "matched with" in to_ca.subject

    # The task runs again (a re-sent event, the sweeper): nothing changes, nobody is re-emailed.
    assert services.match_slate_volunteers(slate_id=slate.pk) == 0
    assert services.slates_awaiting_matching() == []
    assert VolunteerMatch.objects.count() == 4 and len(match_emails()) == 4
    assert MatchingRound.objects.get(slate=slate).matched_count == 3


def test_a_volunteer_can_change_their_match_to_another_signed_campaign():
    slate = make_open_slate(candidates=3, min_signatures=2)
    ca, ny, tx = slate_candidates(slate)
    pledge = pledge_hours(slate, zip_code="90012")
    lock(slate, signers=[ca, ny])
    match = VolunteerMatch.objects.get(pledge=pledge)
    with pytest.raises(VolunteerError, match="signed this slate"):
        services.change_match(match=match, candidate=tx, actor=pledge.supporter)
    with pytest.raises(VolunteerError, match="only your own"):
        services.change_match(match=match, candidate=ny, actor=UserFactory())
    services.change_match(match=match, candidate=ny, actor=pledge.supporter, mode="remote")
    match.refresh_from_db()
    assert (match.candidate, match.mode, match.chosen_by_volunteer) == (ny, "remote", True)
    assert match.changes.count() == 2


def test_a_campaign_sees_contact_details_only_of_consenting_matched_volunteers():
    slate = make_open_slate(candidates=2, min_signatures=2)
    ca, ny = slate_candidates(slate)
    consenting = pledge_hours(slate, zip_code="94110", share_contact=True, display_name="Ana")
    private = pledge_hours(slate, zip_code="90012")
    lock(slate)
    rows = {r.email: r for r in selectors.matched_volunteers(ca, slate, ca.user)}
    assert consenting.supporter.email in rows and rows[consenting.supporter.email].name == "Ana"
    assert None in rows and rows[None].name is None and rows[None].phone is None
    assert private.supporter.email not in rows
    # Another campaign, or a stranger, sees nobody.
    assert selectors.matched_volunteers(ca, slate, ny.user) == []
    assert selectors.matched_volunteers(ca, slate, UserFactory()) == []


@settings(
    max_examples=8, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(
    st.lists(
        st.tuples(st.sampled_from(["94110", "10001", "73301", "33101"]), st.booleans(),
                  st.sampled_from(["in_person", "remote", "either"])),
        min_size=1, max_size=8,
    )
)  # fmt: skip
def test_no_campaign_ever_sees_an_unconsented_contact(volunteers):
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledges = [
        pledge_hours(slate, zip_code=z, share_contact=consent, mode=mode)
        for z, consent, mode in volunteers
    ]
    lock(slate)
    consented = {p.supporter.email for p, (_, c, _) in zip(pledges, volunteers, strict=True) if c}
    everyone = {p.supporter.email for p in pledges}
    for candidate in slate_candidates(slate):
        for viewer in (candidate.user, slate.organizers.first()):
            for row in selectors.matched_volunteers(candidate, slate, viewer):
                assert row.email is None or row.email in consented
                assert (row.email is None) == (row.phone is None) == (row.name is None)
                assert row.email not in everyone - consented
