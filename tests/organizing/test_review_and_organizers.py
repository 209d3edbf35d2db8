"""Starting a slate openly: the "Start a slate" link and its two-factor check, staff's review
queue for a new organizer's first slate, and co-organizers invited by email and removed."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from candidates import agreements as candidate_agreements
from candidates import invitations as candidate_invitations
from slate import organizers as slate_organizers
from slate.models import OrganizerInvitation, Slate, SlateOrganizer, SlateTransition
from tests.factories import (
    UserFactory,
    make_candidate,
    make_draft_slate,
    make_open_slate,
    make_staff,
    organizer_of,
    verify,
    with_totp,
)

pytestmark = pytest.mark.django_db


def ready_draft(organizer=None) -> Slate:
    """A draft with everything publishing asks for (planks, candidates, agreement)."""
    slate = make_draft_slate(organizer=organizer, min_signatures=1)
    organizer = organizer_of(slate)
    candidate = make_candidate(organizer=organizer)
    candidate_invitations.invite_candidate(slate=slate, candidate=candidate, actor=organizer)
    verify(candidate, organizer)
    candidate_agreements.save_agreement_draft(slate=slate, actor=organizer, text="Together.")
    return slate


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_start_a_slate_is_linked_for_everyone_and_needs_two_factor():
    home = Client().get(reverse("slate:home")).content.decode()
    assert f'href="{reverse("organize:new")}"' in home and "Start a slate" in home

    anonymous = Client().get(reverse("organize:new"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    # Signed in without two-factor: sent to set it up, and no draft can be made by a POST.
    without = logged_in(UserFactory())
    response = without.get(reverse("organize:new"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    response = without.post(
        reverse("organize:new"),
        {"name": "Sneaky", "mission": "m", "deadline": "2099-01-01T10:00"},
    )
    assert response.status_code == 302 and not Slate.objects.exists()

    with_two_factor = logged_in(with_totp(UserFactory()))
    assert with_two_factor.get(reverse("organize:new")).status_code == 200


def test_a_new_organizers_first_slate_waits_for_review_and_a_refusal_says_why(
    django_capture_on_commit_callbacks,
):
    slate = ready_draft()
    organizer = organizer_of(slate)
    client = logged_in(organizer)
    assert (
        "staff review it"
        in client.get(reverse("organize:preview", args=[slate.slug])).content.decode()
    )
    client.post(reverse("organize:publish", args=[slate.slug]))
    slate.refresh_from_db()
    assert slate.state == "review"
    assert Client().get(slate.get_absolute_url()).status_code == 404  # not public yet
    assert slate not in Slate.objects.filter(state="open")

    staff = logged_in(make_staff())
    queue = staff.get(reverse("organize:review-queue")).content.decode()
    assert slate.name in queue and organizer.email in queue
    assert slate.name in staff.get(reverse("organize:review", args=[slate.slug])).content.decode()

    # No reason: a field error, and the slate stays in review.
    response = staff.post(reverse("organize:review", args=[slate.slug]), {"reason": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    slate.refresh_from_db()
    assert slate.state == "review" and not mail.outbox

    reason = "Name the districts of the candidates in the mission."
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("organize:review", args=[slate.slug]), {"reason": reason})
    assert response["Location"] == reverse("organize:review-queue")
    slate.refresh_from_db()
    assert slate.state == "draft"
    assert [m.to for m in mail.outbox] == [[organizer.email]] and reason in mail.outbox[0].body
    assert reason in client.get(reverse("organize:preview", args=[slate.slug])).content.decode()
    assert "Nothing is waiting" in staff.get(reverse("organize:review-queue")).content.decode()

    # Published again, it comes back to the queue; approved, it is public.
    client.post(reverse("organize:publish", args=[slate.slug]))
    slate.refresh_from_db()
    assert slate.state == "review"
    staff.post(reverse("organize:review-approve", args=[slate.slug]))
    slate.refresh_from_db()
    assert slate.state == "open"
    assert list(SlateTransition.objects.filter(slate=slate).values_list("to_state", flat=True)) == [
        "review", "draft", "review", "open",
    ]  # fmt: skip


def test_only_staff_work_the_review_queue():
    slate = ready_draft()
    organizer = organizer_of(slate)
    candidate_agreements.publish_slate(slate=slate, actor=organizer)
    for user in (organizer, with_totp(UserFactory())):
        client = logged_in(user)
        assert client.get(reverse("organize:review-queue")).status_code == 403
        assert client.get(reverse("organize:review", args=[slate.slug])).status_code == 403
        assert client.post(reverse("organize:review-approve", args=[slate.slug])).status_code == 403
        response = client.post(reverse("organize:review", args=[slate.slug]), {"reason": "no"})
        assert response.status_code == 403
    slate.refresh_from_db()
    assert slate.state == "review"
    # Approving what is not in review explains and changes nothing.
    other = make_draft_slate()
    response = logged_in(make_staff()).post(reverse("organize:review-approve", args=[other.slug]))
    assert response.status_code == 400 and "not waiting for review" in response.content.decode()
    other.refresh_from_db()
    assert other.state == "draft"


def test_an_organizer_with_a_published_slate_publishes_the_next_at_once():
    published = make_open_slate()
    organizer = organizer_of(published)
    slate = ready_draft(organizer=organizer)
    response = logged_in(organizer).post(reverse("organize:publish", args=[slate.slug]))
    assert response["Location"] == reverse("organize:dashboard", args=[slate.slug])
    slate.refresh_from_db()
    assert slate.state == "open"


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0).split("://", 1)[1].split("/", 1)[1]


def test_organizers_invite_a_co_organizer_by_email_who_joins_with_that_address(
    django_capture_on_commit_callbacks,
):
    slate = make_draft_slate()
    organizer = organizer_of(slate)
    client = logged_in(organizer)
    url = reverse("organize:organizers", args=[slate.slug])
    assert client.get(url).status_code == 200

    response = client.post(url, {"email": "not an address"})
    assert response.status_code == 400 and response.context["form"].errors["email"]
    response = client.post(url, {"email": organizer.email})
    assert (
        response.status_code == 400 and "organizes this slate already" in response.content.decode()
    )
    assert not OrganizerInvitation.objects.exists() and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "Co.Organizer@Example.org"})
    assert response["Location"] == url
    invitation = OrganizerInvitation.objects.get()
    assert invitation.email == "co.organizer@example.org"
    assert [m.to for m in mail.outbox] == [["co.organizer@example.org"]]
    join = "/" + link_in(mail.outbox[0])
    assert join.startswith("/organize/join/")

    # Someone else who got the link cannot use it.
    stranger = logged_in(with_totp(UserFactory()))
    response = stranger.post(join)
    assert response.status_code == 400 and "co.organizer@example.org" in response.content.decode()
    # Without two-factor, the invitee is asked to set it up first.
    invitee = UserFactory(email="co.organizer@example.org")
    response = logged_in(invitee).post(join)
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not SlateOrganizer.objects.filter(slate=slate, user=invitee).exists()

    with_totp(invitee)
    response = logged_in(invitee).post(join)
    assert response["Location"] == reverse("organize:index")
    assert set(slate.organizers.all()) == {organizer, invitee}
    invitation.refresh_from_db()
    assert invitation.accepted_by == invitee
    assert Client().get(join).status_code == 302  # login first
    assert logged_in(invitee).get("/organize/join/forged-token/").status_code == 400


def test_organizers_remove_co_organizers_but_never_the_last_one():
    slate = make_draft_slate()
    organizer = organizer_of(slate)
    co = with_totp(UserFactory())
    slate_organizers.add_organizer(slate=slate, user=co, actor=organizer)
    outsider = logged_in(with_totp(UserFactory()))

    remove_co = reverse("organize:organizer-remove", args=[slate.slug, co.pk])
    assert outsider.post(remove_co).status_code == 403
    assert (
        outsider.post(
            reverse("organize:organizers", args=[slate.slug]), {"email": "x@example.org"}
        ).status_code
        == 403
    )
    assert set(slate.organizers.all()) == {organizer, co}

    assert logged_in(organizer).post(remove_co)["Location"] == reverse(
        "organize:organizers", args=[slate.slug]
    )
    assert list(slate.organizers.all()) == [organizer]
    # The removed co-organizer no longer gets in.
    assert logged_in(co).get(reverse("organize:preview", args=[slate.slug])).status_code == 403

    # The last organizer cannot leave: a message, and nothing changes.
    client = logged_in(organizer)
    remove_self = reverse("organize:organizer-remove", args=[slate.slug, organizer.pk])
    response = client.post(remove_self, follow=True)
    assert "at least one organizer" in response.content.decode()
    assert list(slate.organizers.all()) == [organizer]


def test_a_withdrawn_invitation_link_no_longer_works(django_capture_on_commit_callbacks):
    slate = make_draft_slate()
    organizer = organizer_of(slate)
    client = logged_in(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("organize:organizers", args=[slate.slug]), {"email": "late@example.org"}
        )
    invitation = OrganizerInvitation.objects.get()
    join = "/" + link_in(mail.outbox[0])
    client.post(reverse("organize:organizer-invitation-cancel", args=[slate.slug, invitation.pk]))
    assert not OrganizerInvitation.objects.exists()
    invitee = with_totp(UserFactory(email="late@example.org"))
    response = logged_in(invitee).post(join)
    assert response.status_code == 400 and "withdrawn" in response.content.decode()
    assert list(slate.organizers.all()) == [organizer]
