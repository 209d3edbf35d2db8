"""Campaign staff without an account: the signer adds their address in the signers' room, the
address is emailed a signed link that expires; following it, the person signs up (or logs in)
with that address and joins the candidate's staff, behind two-factor like any staff member.
A withdrawn, expired, forged or used link, or a second invitation of someone on the staff
already, changes nothing and says why."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import (
    UserFactory,
    make_open_slate,
    sign,
    slate_candidates,
    with_totp,
)
from volunteers import room, staff_invitations
from volunteers.errors import VolunteerError
from volunteers.models import CampaignStaff, StaffInvitation

pytestmark = pytest.mark.django_db

ADDRESS = "new.aide@campaign.example"
SETTINGS = reverse("volunteer_hosts:room-settings")


@pytest.fixture
def signed(django_capture_on_commit_callbacks):
    """A slate that CA's signature locked; CA is the signer who invites."""
    slate = make_open_slate(candidates=1, min_signatures=1)
    (candidate,) = slate_candidates(slate)
    with_totp(candidate.user)  # the signer's page is behind two-factor
    with django_capture_on_commit_callbacks(execute=True):
        sign(candidate, slate)
    return slate, candidate


@pytest.fixture
def invite(signed, django_capture_on_commit_callbacks):
    """Invite ``address`` through the signer's page (its mail sent); the link's path."""
    _, candidate = signed

    def invite_address(address=ADDRESS):
        client = Client()
        client.force_login(candidate.user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(SETTINGS, {"action": "add_staff", "email": address})
        assert response.status_code == 302, response.content.decode()
        return link_in(mail.outbox[-1])

    return invite_address


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/volunteer/staff/join/\S+/)", message.body).group(1)


def sign_up(client, link, email=ADDRESS):
    """allauth's own signup form, opened from the invitation page's link."""
    page = client.get(link).content.decode()
    signup = re.search(r'href="(/accounts/signup/\?next=[^"]+)"', page).group(1)
    assert client.get(signup).status_code == 200
    return client.post(
        signup.replace("&amp;", "&"),
        {"email": email, "password1": "a-long-Pass-phrase-9", "password2": "a-long-Pass-phrase-9"},
    )


def test_an_address_without_an_account_is_emailed_an_invitation_and_listed(signed, invite):
    _, candidate = signed
    link = invite("  New.Aide@Campaign.example ")
    assert [m.to for m in mail.outbox] == [[ADDRESS]]
    message = mail.outbox[0]
    assert candidate.full_name in message.subject and "two-factor" in message.body
    assert not CampaignStaff.objects.exists()  # nothing is granted before they accept
    invitation = StaffInvitation.objects.get()
    assert (invitation.candidate, invitation.email, invitation.invited_by) == (
        candidate, ADDRESS, candidate.user
    )  # fmt: skip
    assert link.startswith("/volunteer/staff/join/")
    client = Client()
    client.force_login(candidate.user)
    page = client.get(SETTINGS).content.decode()
    assert ADDRESS in page and "the link works until" in page


def test_adding_the_address_again_sends_no_second_email_at_once(signed, invite):
    invite()
    invite()
    assert StaffInvitation.objects.count() == 1
    assert len(mail.outbox) == 1  # within email_links.RESEND_AFTER: one invitation, one email


def test_the_send_task_twice_sends_one_email(signed, django_capture_on_commit_callbacks):
    _, candidate = signed
    with django_capture_on_commit_callbacks(execute=False):
        invitation = room.add_staff(candidate=candidate, actor=candidate.user, email=ADDRESS)
    assert staff_invitations.send(invitation_id=invitation.pk) is True
    assert staff_invitations.send(invitation_id=invitation.pk) is False
    assert len(mail.outbox) == 1


def test_sign_up_from_the_link_then_accept_joins_the_staff_behind_two_factor(signed, invite):
    slate, candidate = signed
    link = invite()
    client = Client()
    page = client.get(link)
    assert page.status_code == 200 and "Sign up with new.aide@campaign.example" in page.text
    response = sign_up(client, link)
    assert response.status_code == 302 and response["Location"] == link  # back to accept
    aide = EmailAddress.objects.get(email=ADDRESS)
    assert aide.verified  # the link proved the address: no confirmation email to wait for
    page = client.get(link)
    assert "Accept: join" in page.text
    accepted = client.post(link)
    assert accepted.status_code == 302 and accepted["Location"] == SETTINGS
    assert CampaignStaff.objects.filter(candidate=candidate, user=aide.user).exists()
    invitation = StaffInvitation.objects.get()
    assert invitation.accepted_by == aide.user and invitation.accepted_at is not None
    # Staff need two-factor: the room pages send them to set it up first.
    room_url = reverse("volunteer_hosts:room", args=[slate.slug])
    assert client.get(room_url)["Location"] == reverse("mfa_activate_totp")
    with_totp(aide.user)
    client.force_login(aide.user)  # a login that passed the code
    assert client.get(room_url).status_code == 200
    assert staff_invitations.pending(candidate) == []  # no longer waiting on the signer's page


def test_someone_who_made_an_account_meanwhile_logs_in_and_accepts(signed, invite):
    _, candidate = signed
    link = invite()
    person = UserFactory(email=ADDRESS)
    client = Client()
    page = client.get(link).text
    assert f"/accounts/login/?{urlencode({'next': link})}" in page
    client.force_login(person)
    assert client.post(link).status_code == 302
    assert CampaignStaff.objects.filter(candidate=candidate, user=person).exists()


def test_an_unverified_address_is_verified_by_accepting_from_its_link(signed, invite):
    _, candidate = signed
    link = invite()
    person = UserFactory(email=ADDRESS, verified_email=False)
    EmailAddress.objects.create(user=person, email=ADDRESS, verified=False, primary=True)
    client = Client()
    client.force_login(person)
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(email=ADDRESS).verified
    assert CampaignStaff.objects.filter(candidate=candidate, user=person).exists()


def test_an_address_someone_listed_unverified_is_invited_not_given_to_them(signed, invite):
    """Anyone may add any address to their own account, unverified: adding that address
    makes nobody staff; the invitation goes to the mailbox, whose link is the proof."""
    _, candidate = signed
    squatter = UserFactory(email="mallory@example.org")
    EmailAddress.objects.create(user=squatter, email=ADDRESS, verified=False, primary=False)
    invite()
    assert mail.outbox[-1].to == [ADDRESS]
    assert not CampaignStaff.objects.filter(candidate=candidate).exists()
    assert StaffInvitation.objects.get().is_open


def test_another_account_cannot_accept(signed, invite):
    link = invite()
    client = Client()
    client.force_login(UserFactory(email="someone.else@example.org"))
    page = client.get(link)
    assert page.status_code == 200 and "this invitation was sent to" in page.text
    response = client.post(link)
    assert response.status_code == 400
    assert f"This invitation was sent to {ADDRESS}" in response.text
    assert not CampaignStaff.objects.exists()
    assert StaffInvitation.objects.get().is_open


def test_a_second_use_changes_nothing_and_says_so(signed, invite):
    link = invite()
    first = UserFactory(email=ADDRESS)
    client = Client()
    client.force_login(first)
    assert client.post(link).status_code == 302
    accepted = StaffInvitation.objects.get()
    again = client.post(link)
    assert again.status_code == 400 and "was used already" in again.text
    assert Client().get(link).status_code == 400  # the page says so to anyone
    assert CampaignStaff.objects.count() == 1
    assert StaffInvitation.objects.get().accepted_at == accepted.accepted_at


def test_a_withdrawn_invitation_link_changes_nothing(signed, invite):
    _, candidate = signed
    link = invite()
    invitation = StaffInvitation.objects.get()
    client = Client()
    client.force_login(candidate.user)
    response = client.post(
        SETTINGS, {"action": "withdraw_invitation", "invitation_id": invitation.pk}
    )
    assert response.status_code == 302
    assert ADDRESS not in client.get(SETTINGS).text
    person = Client()
    person.force_login(UserFactory(email=ADDRESS))
    for answer in (person.get(link), person.post(link), Client().get(link)):
        assert answer.status_code == 400 and "This invitation was withdrawn" in answer.text
    assert not CampaignStaff.objects.exists()


def test_an_expired_or_forged_link_changes_nothing(signed, invite, monkeypatch):
    link = invite()
    person = Client()
    person.force_login(UserFactory(email=ADDRESS))
    forged = link.replace("/join/", "/join/x")
    answer = person.post(forged)
    assert answer.status_code == 400 and "not an invitation we sent" in answer.text
    monkeypatch.setattr(staff_invitations, "LINK_MAX_AGE", timedelta(seconds=-1))
    answer = person.post(link)
    assert answer.status_code == 400 and "has expired" in answer.text
    assert not CampaignStaff.objects.exists()
    assert StaffInvitation.objects.get().is_open


def test_someone_on_the_staff_already_is_not_invited_again(
    signed, django_capture_on_commit_callbacks
):
    _, candidate = signed
    aide = UserFactory(email=ADDRESS)
    room.add_staff(candidate=candidate, actor=candidate.user, email=ADDRESS)
    client = Client()
    client.force_login(candidate.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETTINGS, {"action": "add_staff", "email": ADDRESS.upper()})
    assert response.status_code == 400 and "on your staff already" in response.text
    assert not StaffInvitation.objects.exists() and mail.outbox == []
    assert list(CampaignStaff.objects.values_list("user", flat=True)) == [aide.pk]


def test_adding_directly_someone_invited_closes_their_invitation(signed, invite):
    _, candidate = signed
    link = invite()
    person = UserFactory(email=ADDRESS)  # made an account meanwhile
    room.add_staff(candidate=candidate, actor=candidate.user, email=ADDRESS)
    assert staff_invitations.pending(candidate) == []
    client = Client()
    client.force_login(person)
    assert client.post(link).status_code == 400  # used: they are on the staff already
    assert CampaignStaff.objects.filter(user=person).count() == 1


def test_only_the_candidate_withdraws_and_bad_ids_are_refused(signed, invite):
    _, candidate = signed
    invite()
    invitation = StaffInvitation.objects.get()
    for outsider in (UserFactory(), UserFactory(email=ADDRESS)):  # nor the invited person
        with pytest.raises(VolunteerError, match="Only the candidate"):
            room.withdraw_staff_invitation(
                candidate=candidate, actor=outsider, invitation_id=invitation.pk
            )
    client = Client()
    client.force_login(candidate.user)
    for bad in ("", "abc", "999999", None):
        body = {"action": "withdraw_invitation"}
        if bad is not None:
            body["invitation_id"] = bad
        response = client.post(SETTINGS, body)
        assert response.status_code == 400 and "used or withdrawn already" in response.text
    assert StaffInvitation.objects.get().is_open
    room.withdraw_staff_invitation(
        candidate=candidate, actor=candidate.user, invitation_id=invitation.pk
    )
    with pytest.raises(VolunteerError, match="used or withdrawn already"):
        room.withdraw_staff_invitation(
            candidate=candidate, actor=candidate.user, invitation_id=invitation.pk
        )


@pytest.mark.parametrize(
    ("email", "on_the_page"),
    [
        ("not-an-address", "Enter a valid email address"),
        ("", "This field is required"),
        (None, "This field is required"),
        ("a" * 250 + "@x.org", "at most 254 characters"),
    ],
)
def test_a_bad_address_is_a_form_error_and_writes_nothing(signed, email, on_the_page):
    _, candidate = signed
    with pytest.raises(VolunteerError, match="Enter a valid email address"):
        room.add_staff(candidate=candidate, actor=candidate.user, email=email)
    client = Client()
    client.force_login(candidate.user)
    response = client.post(SETTINGS, {"action": "add_staff", "email": email or ""})
    assert response.status_code == 400 and on_the_page in response.text
    assert not StaffInvitation.objects.exists() and not CampaignStaff.objects.exists()


def test_an_expired_invitation_is_marked_so_on_the_signers_page(signed, invite, monkeypatch):
    _, candidate = signed
    invite()
    monkeypatch.setattr(staff_invitations, "LINK_MAX_AGE", timedelta(seconds=-1))
    (pending,) = staff_invitations.pending(candidate)
    assert pending.expired
    client = Client()
    client.force_login(candidate.user)
    assert "the link expired on" in client.get(SETTINGS).text
