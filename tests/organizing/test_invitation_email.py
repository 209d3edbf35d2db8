"""Organizers can have the invitation link emailed to the candidate."""

import pytest
from django.urls import reverse

from candidates import invitations, services
from candidates.claim_links import invitation_for_token
from tests.factories import UserFactory, make_open_slate, organizer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=2, min_signatures=2)


def link_in(message) -> str:
    return next(line for line in message.body.splitlines() if "/candidate/claim/" in line)


def test_inviting_with_an_email_sends_a_working_link(
    client, slate, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(organizer_of(slate))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organize:candidates", args=[slate.slug]),
            {"full_name": "Ida Wells", "office": "senate", "state": "IL",
             "notify_email": "ida@example.org"},
        )  # fmt: skip
    assert response.status_code == 302
    [message] = mailoutbox
    assert message.to == ["ida@example.org"] and "Ida Wells" in message.body
    token = link_in(message).rstrip("/").rsplit("/", 1)[1]
    assert invitation_for_token(token).candidate.full_name == "Ida Wells"


def test_an_existing_invitations_link_is_emailed_from_its_row(
    client, slate, mailoutbox, django_capture_on_commit_callbacks
):
    organizer = organizer_of(slate)
    invitation = invitations.invite_new_candidate(
        slate=slate, actor=organizer, full_name="Ana Row", office="mayor", state="NM"
    )
    client.force_login(organizer)
    url = reverse("organize:invitation-email", args=[slate.slug, invitation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"email": "ana@example.org"})
    assert [m.to for m in mailoutbox] == [["ana@example.org"]]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b\\x00c.org"])
def test_a_bad_address_sends_nothing_and_invites_nobody(
    client, slate, mailoutbox, email, django_capture_on_commit_callbacks
):
    from candidates.models import Candidate

    client.force_login(organizer_of(slate))
    before = Candidate.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organize:candidates", args=[slate.slug]),
            {"full_name": "X Y", "office": "house", "state": "CA", "notify_email": email or "x"},
        )
    assert response.status_code == 400
    assert Candidate.objects.count() == before and mailoutbox == []


def test_only_this_slates_organizers_send_links_and_claimed_ones_are_refused(
    client, slate, mailoutbox, django_capture_on_commit_callbacks
):
    organizer = organizer_of(slate)
    invitation = invitations.invite_new_candidate(
        slate=slate, actor=organizer, full_name="Cal Claimed", office="house", state="CA"
    )
    url = reverse("organize:invitation-email", args=[slate.slug, invitation.pk])
    client.force_login(UserFactory())
    assert client.post(url, {"email": "c@example.org"}).status_code == 403
    services.claim_invitation(invitation=invitation, user=UserFactory())
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "c@example.org"}, follow=True)
    assert "already claimed" in response.content.decode()
    assert mailoutbox == []
