"""Declining is a choice made in public, and the threshold accounts for it."""

import pytest
from django.test import Client
from django.urls import reverse

from candidates import asks, invitations, selectors
from candidates.models import Invitation
from candidates.services import CandidateError
from slate.selectors import threshold_verdict
from tests.factories import UserFactory, make_open_slate, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db


def invitation_of(slate, candidate):
    return Invitation.objects.get(slate=slate, candidate=candidate)


def decline(slate, candidate, reason="", user=None):
    return invitations.respond_to_invitation(
        invitation=invitation_of(slate, candidate), user=user or candidate.user, accept=False,
        reason=reason,
    )  # fmt: skip


def test_a_decline_with_its_reason_is_shown_on_the_slate_and_candidate_pages():
    slate = make_open_slate(candidates=4, min_signatures=3)
    candidate = slate_candidates(slate)[0]
    decline(slate, candidate, "I run <alone> this cycle.")
    slate.refresh_from_db()
    assert slate.invited_candidate_count == 3
    html = Client().get(slate.get_absolute_url()).content.decode()
    assert f"{candidate.full_name}</a>" in html
    assert "declined" in html and "“I run &lt;alone&gt; this cycle.”" in html
    assert "<alone>" not in html
    profile = Client().get(candidate.get_absolute_url()).content.decode()
    assert "<strong>Declined</strong> the invitation" in profile
    assert "I run &lt;alone&gt; this cycle." in profile
    with pytest.raises(CandidateError) as excinfo:
        asks.record_ask(slate=slate, candidate=candidate, supporter=UserFactory())
    assert excinfo.value.code == "declined"


def test_only_the_candidate_declines_once_with_a_reason_that_fits():
    slate = make_open_slate(candidates=3, min_signatures=2)
    candidate, other = slate_candidates(slate)[:2]
    with pytest.raises(CandidateError) as excinfo:
        decline(slate, candidate, user=other.user)
    assert excinfo.value.code == "forbidden"
    with pytest.raises(CandidateError) as excinfo:
        decline(slate, candidate, "x" * 501)
    assert excinfo.value.code == "too_long"
    assert invitation_of(slate, candidate).status == Invitation.Status.PENDING
    decline(slate, candidate)
    with pytest.raises(CandidateError) as excinfo:
        decline(slate, candidate, "again")
    assert excinfo.value.code == "already_declined"
    assert invitation_of(slate, candidate).decline_reason == ""
    sign(other, slate)
    with pytest.raises(CandidateError) as excinfo:
        decline(slate, other)
    assert excinfo.value.code == "signed"


def test_a_required_candidates_decline_keeps_the_rule_from_holding_until_the_invitation_goes():
    slate = make_open_slate(candidates=4, min_signatures=2, required=1)
    required, *others = slate_candidates(slate)
    decline(slate, required, "Not this year.")
    for candidate in others:
        sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 3
    assert slate.required_unsigned_count == 1
    assert not threshold_verdict(slate).holds
    assert slate.state == "open"
    reach = selectors.rule_reach(slate)
    assert not reach.reachable
    assert [i.candidate for i in reach.declined_required] == [required]

    invitations.revoke_invitation(
        invitation=invitation_of(slate, required), actor=organizer_of(slate)
    )
    slate.refresh_from_db()
    assert slate.required_unsigned_count == 0
    assert threshold_verdict(slate).holds


def test_organizers_see_whether_the_rule_can_still_be_met():
    slate = make_open_slate(candidates=3, min_signatures=3)
    first, second, _ = slate_candidates(slate)
    client = Client()
    client.force_login(organizer_of(slate))
    url = reverse("organize:dashboard", args=[slate.slug])
    assert "The rule can still be met: 0 signed and 3 more could sign, 3 needed." in (
        client.get(url).content.decode()
    )
    sign(second, slate)
    decline(slate, first, "My district comes first.")
    reach = selectors.rule_reach(slate)
    assert (reach.signed, reach.could_still_sign, reach.most_possible) == (1, 1, 2)
    assert not reach.reachable
    page = client.get(url).content.decode()
    assert "The rule cannot be met as things stand" in page
    assert "at most 2 of the 3 needed signatures are possible" in page
    assert "My district comes first." in page


def test_the_decline_page_records_the_reason_and_refuses_a_too_long_one():
    slate = make_open_slate(candidates=3, min_signatures=2)
    candidate = slate_candidates(slate)[0]
    client = Client()
    client.force_login(candidate.user)
    url = reverse("candidates:decline", args=[slate.slug])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "x" * 501}).status_code == 400
    assert invitation_of(slate, candidate).status == Invitation.Status.PENDING
    response = client.post(url, {"reason": "Running for another office."})
    assert response.status_code == 302
    invitation = invitation_of(slate, candidate)
    assert (invitation.status, invitation.decline_reason) == (
        "declined", "Running for another office.",
    )  # fmt: skip
