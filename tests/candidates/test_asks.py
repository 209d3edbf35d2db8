"""'Ask them to sign': one counted ask per supporter per candidate, shown where it presses."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import asks, invitations
from candidates.models import Ask, Invitation
from candidates.services import CandidateError
from slate.models import Slate
from tests.factories import (
    UserFactory,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=3, min_signatures=3)


@pytest.fixture
def candidate(slate):
    return slate_candidates(slate)[0]


def ask(slate, candidate, supporter=None, message="Please sign.", ip="198.51.100.7"):
    return asks.record_ask(
        slate=slate, candidate=candidate, supporter=supporter or UserFactory(), message=message,
        ip_address=ip,
    )  # fmt: skip


def refused(code, **kwargs):
    with pytest.raises(CandidateError) as excinfo:
        ask(**kwargs)
    assert excinfo.value.code == code
    return excinfo.value


def test_an_ask_is_counted_with_the_message_as_written(slate, candidate):
    recorded = ask(slate, candidate, message="  Sign it, <please> & soon  ")
    assert recorded.message == "Sign it, <please> & soon"
    assert asks.ask_count(slate, candidate) == 1
    ask(slate, candidate)
    assert asks.ask_counts(slate)[candidate.pk] == asks.AskCounts(total=2, this_week=2)


def test_a_second_ask_from_the_same_supporter_changes_nothing(slate, candidate):
    supporter = UserFactory()
    ask(slate, candidate, supporter, message="First")
    error = refused("already_asked", slate=slate, candidate=candidate, supporter=supporter)
    assert "already asked" in error.message
    assert list(Ask.objects.values_list("message", flat=True)) == ["First"]
    # The same supporter may still ask another candidate.
    ask(slate, slate_candidates(slate)[1], supporter)


def test_no_ask_for_a_candidate_who_signed_or_declined(slate, candidate):
    signer = slate_candidates(slate)[1]
    sign(signer, slate)
    refused("already_signed", slate=slate, candidate=signer)
    invitation = Invitation.objects.get(slate=slate, candidate=candidate)
    invitations.respond_to_invitation(invitation=invitation, user=candidate.user, accept=False)
    refused("declined", slate=slate, candidate=candidate)
    assert not Ask.objects.exists()


def test_no_ask_on_a_closed_slate(slate, candidate):
    Slate.objects.filter(pk=slate.pk).update(state="locked")
    slate.refresh_from_db()
    refused("slate_closed", slate=slate, candidate=candidate)
    Slate.objects.filter(pk=slate.pk).update(
        state="open", deadline=timezone.now() - timedelta(minutes=1)
    )
    slate.refresh_from_db()
    refused("slate_closed", slate=slate, candidate=candidate)
    assert not Ask.objects.exists()


@pytest.mark.parametrize(
    ("message", "code"),
    [("x" * 501, "too_long"), ("nul \x00", "invalid_text"), (7, "invalid_text")],
)
def test_a_bad_message_is_refused_and_nothing_is_counted(slate, candidate, message, code):
    error = refused(code, slate=slate, candidate=candidate, message=message)
    assert error.field == "message"
    assert not Ask.objects.exists()


def test_asks_are_rate_limited_per_address(slate, candidate, monkeypatch):
    monkeypatch.setattr(asks, "ASKS_PER_IP_PER_HOUR", 2)
    others = slate_candidates(slate)
    ask(slate, others[0], ip="198.51.100.9")
    ask(slate, others[1], ip="198.51.100.9")
    refused("rate_limited", slate=slate, candidate=others[2], ip="198.51.100.9")
    ask(slate, others[2], ip="198.51.100.10")  # another address is not limited
    assert Ask.objects.count() == 3


def test_organizers_hide_a_message_and_the_ask_still_counts(slate, candidate):
    recorded = ask(slate, candidate, message="Something abusive")
    with pytest.raises(CandidateError):
        asks.hide_ask(ask=recorded, actor=candidate.user)
    assert asks.public_messages(slate, candidate) == [recorded]
    asks.hide_ask(ask=recorded, actor=organizer_of(slate))
    assert asks.public_messages(slate, candidate) == []
    assert asks.ask_count(slate, candidate) == 1
    page = Client().get(reverse("candidates:ask", args=[slate.slug, candidate.pk]))
    assert b"Something abusive" not in page.content


def test_the_ask_page_records_one_ask_and_shows_the_contact_and_script(slate, candidate):
    candidate.public_phone, candidate.public_email = "(555) 010-2000", "office@example.org"
    candidate.save()
    url = reverse("candidates:ask", args=[slate.slug, candidate.pk])
    anonymous = Client()
    page = anonymous.get(url).content.decode()
    assert "(555) 010-2000" in page and "office@example.org" in page
    assert f"ask {candidate.full_name} to sign the {slate.name}" in page
    # Without an account, a name and an email are needed (tests/candidates/test_ask_by_email.py).
    assert anonymous.post(url, {"message": "hi"}).status_code == 400
    assert not Ask.objects.exists()

    client = Client()
    client.force_login(UserFactory(first_name="Rosa"))
    too_long = client.post(url, {"message": "x" * 501})
    assert too_long.status_code == 400
    assert not Ask.objects.exists()
    assert client.post(url, {"message": "<script>x</script> Please"}).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-testid="ask-count">1<' in page
    assert "&lt;script&gt;x&lt;/script&gt; Please" in page and "<script>x" not in page
    assert "You have asked" in page
    second = client.post(url, {"message": "again"})
    assert second.status_code == 400
    assert b"already asked" in second.content
    assert Ask.objects.count() == 1


def test_the_count_shows_on_the_public_page_the_candidates_page_and_the_dashboard(slate, candidate):
    ask(slate, candidate)
    ask(slate, candidate)
    public = Client().get(candidate.get_absolute_url()).content.decode()
    assert "2 supporters asked" in public
    slate_page = Client().get(slate.get_absolute_url()).content.decode()
    assert f'data-testid="asks-{candidate.pk}">2 asks<' in slate_page
    own = Client()
    own.force_login(candidate.user)
    assert (
        b"<strong>2</strong> supporters asked you to sign"
        in own.get(reverse("candidates:home")).content
    )
    organizer = Client()
    organizer.force_login(organizer_of(slate))
    dashboard = organizer.get(reverse("organize:dashboard", args=[slate.slug])).content.decode()
    assert f'data-testid="asks-{candidate.pk}">2<' in dashboard
    listing = organizer.get(reverse("organize:asks", args=[slate.slug]))
    assert listing.status_code == 200
