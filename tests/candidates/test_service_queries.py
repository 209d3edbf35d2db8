"""How many queries the writes that build a slate's candidates and agreement make (savepoints
included: each service is a transaction, nested in the test's), and ``make_open_slate``, which
goes through all of them and which hundreds of tests call. A ceiling that fails means a write
started asking the database more: look at what it added before raising the figure."""

import pytest

from candidates import agreements, invitations, services
from tests.factories import (
    make_candidate,
    make_draft_slate,
    make_open_slate,
    organizer_of,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


def test_creating_a_candidate_without_an_fec_id(django_assert_max_num_queries):
    organizer = organizer_of(make_draft_slate())
    # The organizer check and the insert; no constraint can fail without an FEC id.
    with django_assert_max_num_queries(4):
        services.create_candidate(
            full_name="Ada Example", office="house", state="CA", created_by=organizer
        )


def test_inviting_a_candidate_to_a_slate_that_has_some(django_assert_max_num_queries):
    slate = make_open_slate(candidates=5)
    organizer = organizer_of(slate)
    candidate = make_candidate(organizer=organizer)
    # The lock, the organizer check, the invitation (looked for, then written) and the
    # candidate facts recounted (two) and stored.
    with django_assert_max_num_queries(11):
        invitations.invite_candidate(slate=slate, candidate=candidate, actor=organizer)
    slate.refresh_from_db()
    assert slate.invited_candidate_count == 6


def test_saving_and_publishing_an_agreement(django_assert_max_num_queries):
    slate = make_draft_slate()
    organizer = organizer_of(slate)
    for _ in range(3):
        invitations.invite_candidate(
            slate=slate, candidate=make_candidate(organizer=organizer), actor=organizer
        )
    # The first draft: a new agreement has no versions to look up.
    with django_assert_max_num_queries(10):
        agreements.save_agreement_draft(slate=slate, actor=organizer, text="We agree.")
    with django_assert_max_num_queries(11):
        agreements.publish_agreement(slate=slate, actor=organizer)
    # A later draft looks for the draft and the last version.
    with django_assert_max_num_queries(9):
        agreements.save_agreement_draft(slate=slate, actor=organizer, text="We agree more.")
    with django_assert_max_num_queries(11):
        agreements.publish_agreement(slate=slate, actor=organizer)
    slate.refresh_from_db()
    assert (slate.agreement_version_number, slate.invited_candidate_count) == (2, 3)


def test_make_open_slate(django_assert_max_num_queries):
    # 219 before the candidate facts took two queries, create_candidate stopped validating a
    # constraint that cannot fail, a first agreement draft stopped looking for versions and
    # make_candidate stopped re-reading the candidate claim_candidate hands back.
    with django_assert_max_num_queries(185):
        slate = make_open_slate()
    assert slate.state == "open"
    assert len(slate_candidates(slate)) == slate.invited_candidate_count == 5
