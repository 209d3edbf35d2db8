"""The signers' room: only a slate's signers and their campaign staff enter; each signer's
contact details show as they chose to share them; the agreement's obligations with their
dates; the volunteer events across campaigns. A signer adds and removes their own staff."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import SignerContact
from candidates.services import CandidateError
from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_open_slate,
    make_staff,
    organizer_of,
    sign,
    slate_candidates,
    with_totp,
)
from volunteers import room
from volunteers.errors import VolunteerError
from volunteers.models import CampaignStaff

from .helpers import make_shift

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate_of_three(django_capture_on_commit_callbacks):
    """CA and NY signed (which locked the slate); TX was invited and never signed."""
    slate = make_open_slate(candidates=3, min_signatures=2)
    ca, ny, tx = slate_candidates(slate)
    with django_capture_on_commit_callbacks(execute=True):
        sign(ca, slate)
        sign(ny, slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    return slate, ca, ny, tx


def get_room(user, slate):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(reverse("volunteer_hosts:room", args=[slate.slug]))


def test_signers_see_each_other_as_each_chose_to_share(slate_of_three):
    slate, ca, ny, _ = slate_of_three
    candidate_services.set_signer_contact(
        candidate=ca, actor=ca.user, phone="+1 415 555 0100", note="Text before calling."
    )  # no email, no scheduler
    page = get_room(ny.user, slate)
    assert page.status_code == 200
    html = page.content.decode()
    assert "+1 415 555 0100" in html and "Text before calling." in html
    assert "Direct email" not in html and "Scheduler" not in html  # not shared: not shown
    assert ca.user.email not in html  # an account's address never is
    assert "Shares no contact details here yet." in html  # NY shared nothing
    # ...and CA sees the same room.
    assert get_room(ca.user, slate).status_code == 200


def test_nobody_else_enters_or_learns_the_room_exists(slate_of_three):
    slate, _, _, tx = slate_of_three
    other_signer = slate_candidates(make_open_slate(candidates=1, min_signatures=1))[0]
    for outsider in (
        tx.user,  # invited, not signed
        organizer_of(slate),
        UserFactory(),
        make_staff(),  # Slate's own staff: the room is the signers'
        other_signer.user,
    ):
        assert get_room(outsider, slate).status_code == 404, outsider
    anonymous = get_room(None, slate)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_signers_staff_enter_and_leave_with_them(slate_of_three):
    slate, ca, _, tx = slate_of_three
    aide = with_totp(UserFactory(email="aide@campaign.example"))
    assert get_room(aide, slate).status_code == 404
    staffer = room.add_staff(candidate=ca, actor=ca.user, email="  Aide@Campaign.example ")
    assert get_room(aide, slate).status_code == 200
    assert room.rooms_of(aide) == [slate]
    # The staff of a candidate who did not sign see no room.
    tx_aide = with_totp(UserFactory(email="tx-aide@campaign.example"))
    room.add_staff(candidate=tx, actor=tx.user, email=tx_aide.email)
    assert get_room(tx_aide, slate).status_code == 404
    room.remove_staff(candidate=ca, actor=ca.user, staff_id=staffer.pk)
    assert get_room(aide, slate).status_code == 404


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter a valid email address."),
        (None, "Enter a valid email address."),
    ],
)
def test_adding_staff_refuses_bad_input_and_writes_nothing(slate_of_three, email, message):
    # (an address no account uses is invited instead: tests/volunteers/test_staff_invitations.py)
    _, ca, _, _ = slate_of_three
    with pytest.raises(VolunteerError, match=message):
        room.add_staff(candidate=ca, actor=ca.user, email=email)
    assert not CampaignStaff.objects.exists()


def test_only_the_candidate_adds_their_staff_once(slate_of_three):
    slate, ca, ny, _ = slate_of_three
    aide = UserFactory(email="aide@campaign.example")
    for outsider in (ny.user, organizer_of(slate), aide):
        with pytest.raises(VolunteerError, match="Only the candidate"):
            room.add_staff(candidate=ca, actor=outsider, email=aide.email)
    with pytest.raises(VolunteerError, match="your own account"):
        room.add_staff(candidate=ca, actor=ca.user, email=ca.user.email)
    room.add_staff(candidate=ca, actor=ca.user, email=aide.email)
    with pytest.raises(VolunteerError, match="on your staff already"):
        room.add_staff(candidate=ca, actor=ca.user, email=aide.email)
    assert CampaignStaff.objects.count() == 1


def test_contact_details_are_the_candidates_own_and_checked(slate_of_three):
    _, ca, ny, _ = slate_of_three
    candidate_services.set_signer_contact(candidate=ca, actor=ca.user, phone="415 555 0100")
    with pytest.raises(CandidateError, match="only their own"):
        candidate_services.set_signer_contact(candidate=ca, actor=ny.user, phone="1")
    for bad in ({"phone": "call me!"}, {"email": "nope"}, {"note": "x" * 501}, {"note": "\x00"}):
        with pytest.raises(CandidateError):
            candidate_services.set_signer_contact(candidate=ca, actor=ca.user, **bad)
    assert SignerContact.objects.get(candidate=ca).phone == "415 555 0100"  # unchanged


def test_the_obligations_carry_their_dates(slate_of_three):
    slate, ca, ny, _ = slate_of_three
    page = get_room(ca.user, slate).content.decode()
    locked = timezone.localdate(slate.locked_at)
    first = date(locked.year + locked.month // 12, locked.month % 12 + 1, 1)
    second = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    obligations = room.obligations(slate, room.members(slate))
    assert [(a.month, a.state, a.hosts) for a in obligations.appearances] == [
        (first, "CA", [ca]),
        (second, "NY", [ny]),
    ]
    assert f"{first:%B %Y}" in page and "Universal health care" in page


def test_the_room_lists_volunteer_events_across_campaigns(slate_of_three):
    slate, ca, ny, _ = slate_of_three
    make_shift(slate, actor=ca.user, candidate=ca)
    make_shift(slate, actor=ny.user, candidate=ny)
    page = get_room(ny.user, slate).content.decode()
    assert f"{ca.full_name}&#x27;s campaign" in page and f"{ny.full_name}&#x27;s campaign" in page
    assert page.count("Weekend canvass") == 2


def test_the_settings_page_saves_what_is_shared_and_explains_refusals(slate_of_three):
    slate, ca, _, _ = slate_of_three
    client = Client()
    client.force_login(ca.user)
    url = reverse("volunteer_hosts:room-settings")
    page = client.get(url)
    assert page.status_code == 200 and slate.name in page.content.decode()
    bad = client.post(url, {"action": "contact", "phone": "call me!"})
    assert bad.status_code == 400
    assert "Enter a phone number" in bad.content.decode()
    assert not SignerContact.objects.exists()
    assert client.post(url, {"action": "contact", "scheduler": "Sam, 555 0101"}).status_code == 302
    assert SignerContact.objects.get(candidate=ca).shared() == [
        ("scheduler or chief of staff (name and how to reach them)", "Sam, 555 0101")
    ]
    own = client.post(url, {"action": "add_staff", "email": ca.user.email})
    assert own.status_code == 400 and "That is your own account." in own.content.decode()
    # A supporter has no such page.
    supporter = Client()
    supporter.force_login(UserFactory())
    assert supporter.get(url).status_code == 403
