"""Asking without an account: name, email and message, counted only once the link emailed to
that address is followed; one per address per candidate; limited per IP address."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from candidates import asks
from candidates.models import Ask, AskRequest
from candidates.services import CandidateError
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=3, min_signatures=3)


@pytest.fixture
def candidate(slate):
    return slate_candidates(slate)[0]


def emailed_link(message) -> str:
    return re.search(r"https?://\S+/asks/confirm/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return link[link.index("/asks/") :]


def test_an_ask_by_email_counts_once_its_link_is_followed(
    slate, candidate, django_capture_on_commit_callbacks
):
    url = reverse("candidates:ask", args=[slate.slug, candidate.pk])
    visitor = Client()
    form = {"name": "Rosa Parks", "email": "Rosa@Example.org", "message": "Sign <b>now</b>!"}
    with django_capture_on_commit_callbacks(execute=True):
        sent = visitor.post(url, form, follow=True)
    assert "Check your email" in sent.content.decode()
    assert asks.ask_count(slate, candidate) == 0  # nothing counts yet
    [message] = mail.outbox
    assert message.to == ["rosa@example.org"]
    assert candidate.full_name in message.subject
    link = emailed_link(message)

    # A mail scanner's GET confirms nothing.
    page = visitor.get(path_of(link))
    assert page.status_code == 200 and "Confirm my ask" in page.content.decode()
    assert asks.ask_count(slate, candidate) == 0
    confirmed = visitor.post(path_of(link), follow=True)
    assert "Your ask is counted" in confirmed.content.decode()
    assert asks.ask_count(slate, candidate) == 1
    ask = Ask.objects.get()
    assert ask.supporter.email == "rosa@example.org" and ask.supporter.first_name == "Rosa"
    assert ask.message == "Sign <b>now</b>!"
    # Shown escaped.
    shown = Client().get(url).content.decode()
    assert "Sign &lt;b&gt;now&lt;/b&gt;!" in shown and "Sign <b>now</b>" not in shown

    # Following the link again counts nothing more; asking again with that address is refused.
    visitor.post(path_of(link))
    assert asks.ask_count(slate, candidate) == 1
    with pytest.raises(CandidateError, match="already asked"):
        asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="Rosa", email="rosa@example.org"
        )


def test_the_same_address_is_one_request_and_one_email_within_minutes(
    slate, candidate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            asks.request_ask_by_email(
                slate=slate, candidate=candidate, name="Ann Lee", email="ann@example.org"
            )
    assert AskRequest.objects.count() == 1 and len(mail.outbox) == 1
    # Another candidate is another ask.
    other = slate_candidates(slate)[1]
    with django_capture_on_commit_callbacks(execute=True):
        asks.request_ask_by_email(
            slate=slate, candidate=other, name="Ann Lee", email="ann@example.org"
        )
    assert AskRequest.objects.count() == 2 and len(mail.outbox) == 2


def test_a_signed_in_ask_and_an_emailed_one_by_the_same_person_count_once(
    slate, candidate, django_capture_on_commit_callbacks
):
    supporter = UserFactory(email="sam@example.org")
    asks.record_ask(slate=slate, candidate=candidate, supporter=supporter)
    with django_capture_on_commit_callbacks(execute=True):
        request = asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="Sam", email="sam@example.org"
        )
    asks.confirm_ask(token=asks.ask_confirmation_token(request))
    assert asks.ask_count(slate, candidate) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name."),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"email": None}, "email", "valid email"),
        ({"message": "x" * 501}, "message", "at most 500"),
        ({"message": "a\x00b"}, "message", "NUL"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(slate, candidate, fields, field, message):
    arguments = {"name": "Ann", "email": "ann@example.org", "message": "", **fields}
    with pytest.raises(CandidateError) as refused:
        asks.request_ask_by_email(slate=slate, candidate=candidate, **arguments)
    assert refused.value.field == field and message in refused.value.message
    assert not AskRequest.objects.exists() and mail.outbox == []


def test_no_ask_by_email_to_a_signer_and_none_counted_after_they_sign(
    slate, candidate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="Ann", email="ann@example.org"
        )
    sign(candidate, slate)
    with pytest.raises(CandidateError, match="already signed"):
        asks.confirm_ask(token=asks.ask_confirmation_token(request))
    assert not Ask.objects.exists()
    assert AskRequest.objects.get().confirmed_at is None
    with pytest.raises(CandidateError, match="already signed"):
        asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="Bo", email="bo@example.org"
        )


def test_requests_are_limited_per_ip_address(slate, candidate, monkeypatch):
    monkeypatch.setattr(asks, "ASKS_PER_IP_PER_HOUR", 2)
    for n in range(2):
        asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="A", email=f"a{n}@example.org",
            ip_address="198.51.100.9",
        )  # fmt: skip
    with pytest.raises(CandidateError, match="Too many asks"):
        asks.request_ask_by_email(
            slate=slate, candidate=candidate, name="A", email="a9@example.org",
            ip_address="198.51.100.9",
        )  # fmt: skip
    asks.request_ask_by_email(
        slate=slate, candidate=candidate, name="A", email="b@example.org",
        ip_address="198.51.100.10",
    )  # fmt: skip
    assert AskRequest.objects.count() == 3


def test_a_bad_or_tampered_link_is_explained(slate, candidate):
    request = asks.request_ask_by_email(
        slate=slate, candidate=candidate, name="Ann", email="ann@example.org"
    )
    token = asks.ask_confirmation_token(request)
    for bad in ("nonsense", token[:-2] + "xx"):
        page = Client().post(reverse("candidates:ask-confirm", args=[bad]))
        assert page.status_code == 400 and "not one we sent" in page.content.decode()
    assert not Ask.objects.exists()
