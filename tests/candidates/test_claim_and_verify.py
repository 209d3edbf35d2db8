"""Invitation link -> the candidate claims the profile -> an organizer verifies -> they sign."""

import pytest
from django.core import signing
from django.urls import reverse

from candidates import invitations, services
from candidates.claim_links import claim_path, claim_token
from candidates.models import Candidate, Invitation
from tests.factories import (
    UserFactory,
    make_draft_slate,
    make_open_slate,
    organizer_of,
    with_totp,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited():
    """An open slate and a fresh, unclaimed candidate invited to it."""
    slate = make_open_slate(candidates=3, min_signatures=2)
    organizer = organizer_of(slate)
    invitation = invitations.invite_new_candidate(
        slate=slate, actor=organizer, full_name="Rosa Park", office="senate", state="AL"
    )
    return slate, organizer, invitation


def test_the_organizer_sees_the_link_and_the_candidate_claims_then_is_verified(client, invited):
    slate, organizer, invitation = invited
    client.force_login(organizer)
    page = client.get(reverse("organize:candidates", args=[slate.slug]))
    [link] = [row["claim_url"] for row in page.context["rows"] if row["invitation"] == invitation]
    assert link in page.content.decode()
    # Links are only shown for profiles nobody has claimed yet.
    assert [row["claim_url"] for row in page.context["rows"] if row["claim_url"]] == [link]

    rosa = with_totp(UserFactory())
    client.force_login(rosa)
    url = link.removeprefix("http://testserver")
    assert "Rosa Park" in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == reverse("candidates:home")
    candidate = Candidate.objects.get(pk=invitation.candidate_id)
    assert candidate.user == rosa and not candidate.verified
    assert "verify your profile" in client.get(reverse("candidates:home")).content.decode()

    client.force_login(organizer)
    response = client.post(reverse("organize:candidate-verify", args=[slate.slug, candidate.pk]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.verified and candidate.verified_by == organizer

    client.force_login(rosa)
    assert client.get(reverse("candidates:sign", args=[slate.slug])).status_code == 200


def test_anonymous_claimers_log_in_first(client, invited):
    _, _, invitation = invited
    response = client.get(claim_path(invitation))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_forged_or_tampered_link_is_a_clear_404(client, invited):
    _, _, invitation = invited
    client.force_login(UserFactory())
    token = claim_token(invitation)
    for bad in ("nonsense", token[:-2] + "xx", signing.dumps({"invitation": invitation.pk})):
        response = client.get(reverse("candidates:claim", args=[bad]))
        assert response.status_code == 404
        assert "does not work" in response.content.decode()
        assert client.post(reverse("candidates:claim", args=[bad])).status_code == 404
    assert Candidate.objects.get(pk=invitation.candidate_id).user is None


def test_a_claimed_profile_cannot_be_claimed_again(client, invited):
    _, _, invitation = invited
    first = UserFactory()
    services.claim_invitation(invitation=invitation, user=first)
    client.force_login(UserFactory())
    response = client.post(claim_path(invitation))
    assert response.status_code == 400
    assert Candidate.objects.get(pk=invitation.candidate_id).user == first


def test_a_revoked_invitations_link_stops_working(client, invited):
    slate, organizer, invitation = invited
    client.force_login(organizer)
    client.post(reverse("organize:invitation-revoke", args=[slate.slug, invitation.pk]))
    assert Invitation.objects.get(pk=invitation.pk).status == "revoked"
    client.force_login(UserFactory())
    response = client.post(claim_path(invitation))
    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()
    assert Candidate.objects.get(pk=invitation.candidate_id).user is None


def test_only_this_slates_organizers_verify_or_revoke(client, invited):
    slate, _, invitation = invited
    services.claim_invitation(invitation=invitation, user=UserFactory())
    verify = reverse("organize:candidate-verify", args=[slate.slug, invitation.candidate_id])
    revoke = reverse("organize:invitation-revoke", args=[slate.slug, invitation.pk])
    assert client.post(verify)["Location"].startswith("/accounts/login/")
    other_organizer = organizer_of(make_open_slate())
    for user in (UserFactory(), other_organizer):
        client.force_login(user)
        assert client.post(verify).status_code == 403
        assert client.post(revoke).status_code == 403
        assert client.get(reverse("organize:candidates", args=[slate.slug])).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Candidate.objects.get(pk=invitation.candidate_id).verified


def test_verifying_an_unclaimed_or_foreign_candidate_is_refused(client, invited):
    slate, organizer, invitation = invited
    client.force_login(organizer)
    response = client.post(
        reverse("organize:candidate-verify", args=[slate.slug, invitation.candidate_id]),
        follow=True,
    )
    assert "must claim the profile" in response.content.decode()
    assert not Candidate.objects.get(pk=invitation.candidate_id).verified
    elsewhere = make_draft_slate()
    stranger = invitations.invite_new_candidate(
        slate=elsewhere, actor=organizer_of(elsewhere), full_name="Not Ours", office="mayor",
        state="OH",
    )  # fmt: skip
    response = client.post(
        reverse("organize:candidate-verify", args=[slate.slug, stranger.candidate_id])
    )
    assert response.status_code == 404


def test_revoking_a_signed_candidate_is_refused(client):
    from tests.factories import sign, slate_candidates

    slate = make_open_slate(candidates=3, min_signatures=3)
    signer = slate_candidates(slate)[0]
    sign(signer, slate)
    invitation = Invitation.objects.get(slate=slate, candidate=signer)
    client.force_login(organizer_of(slate))
    response = client.post(
        reverse("organize:invitation-revoke", args=[slate.slug, invitation.pk]), follow=True
    )
    assert "cannot be uninvited" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
