"""Delivery facts from the mail provider: its tracking webhook (django-anymail's views, which
check the basic-auth secret and Mailgun's signature) suppresses a bounced or complaining
address, and nothing is sent to it after; a forged or unauthenticated call changes nothing."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.core import mail as outbox
from django.test import Client

from slate import mail
from slate.models import EmailOptOut, EmailSuppression, OutboundEmail
from tests.factories import make_open_slate

pytestmark = pytest.mark.django_db

SECRET = "hooks:correct-horse"
SIGNING_KEY = "mailgun-signing-key-for-tests"


@pytest.fixture(autouse=True)
def provider(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def basic_auth(credentials: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_event(event_data: dict, *, key: str = SIGNING_KEY) -> str:
    """A Mailgun webhook body as Mailgun signs it: HMAC-SHA256 of timestamp + token."""
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return json.dumps(
        {
            "signature": {
                "timestamp": timestamp,
                "token": token,
                "signature": signature.hexdigest(),
            },
            "event-data": {
                "timestamp": time.time(),
                "id": "event-id",
                "message": {"headers": {"message-id": "20261206.1@mg.example.org"}},
                **event_data,
            },
        }
    )


def post_mailgun(body: str, **headers):
    return Client().post(
        "/anymail/mailgun/tracking/", body, content_type="application/json", **headers
    )


BOUNCE = {
    "event": "failed",
    "severity": "permanent",
    "reason": "bounce",
    "recipient": "Gone@Example.org",
    "delivery-status": {"code": 550, "message": "5.1.1 No such user", "description": ""},
}


def news(slate, to):
    return mail.Email(
        to=to,
        subject="News",
        template="organizing/email/deadline_extended.txt",
        context={"slate": slate, "extension": None, "url": "https://example.org/"},
        category=mail.Category.MILESTONES,
        slate=slate,
    )


def test_a_signed_bounce_suppresses_the_address_and_nothing_more_is_sent():
    slate = make_open_slate(candidates=1, min_signatures=1)
    response = post_mailgun(mailgun_event(BOUNCE), **basic_auth())
    assert response.status_code == 200
    suppression = EmailSuppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.provider) == (
        "gone@example.org",
        "bounced",
        "Mailgun",
    )
    assert "No such user" in suppression.detail
    assert mail.send(news(slate, "gone@example.org")) is False
    assert outbox.outbox == []
    assert OutboundEmail.objects.get().status == "suppressed"
    # the same event again (the provider retries) changes nothing
    assert post_mailgun(mailgun_event(BOUNCE), **basic_auth()).status_code == 200
    assert EmailSuppression.objects.count() == 1


def test_a_complaint_suppresses_too():
    complaint = {"event": "complained", "recipient": "angry@example.org"}
    assert post_mailgun(mailgun_event(complaint), **basic_auth()).status_code == 200
    assert EmailSuppression.objects.get().reason == "complained"


def test_a_temporary_failure_suppresses_nothing():
    deferred = {**BOUNCE, "severity": "temporary", "reason": "generic"}
    assert post_mailgun(mailgun_event(deferred), **basic_auth()).status_code == 200
    assert not EmailSuppression.objects.exists()


def test_an_unsubscribe_at_the_provider_turns_off_everything_optional():
    event = {"event": "unsubscribed", "recipient": "done@example.org"}
    assert post_mailgun(mailgun_event(event), **basic_auth()).status_code == 200
    assert EmailOptOut.objects.filter(address="done@example.org").count() == len(mail.OPTIONAL)
    assert not EmailSuppression.objects.exists()


@pytest.mark.parametrize(
    "how", ["wrong signature", "no basic auth", "wrong basic auth", "not json"]
)
def test_a_forged_or_unauthenticated_webhook_changes_nothing(how):
    body, headers = mailgun_event(BOUNCE), basic_auth()
    if how == "wrong signature":
        body = mailgun_event(BOUNCE, key="a guessed key")
    elif how == "no basic auth":
        headers = {}
    elif how == "wrong basic auth":
        headers = basic_auth("hooks:guess")
    else:
        body = "recipient=gone@example.org"
    assert post_mailgun(body, **headers).status_code == 400
    assert not EmailSuppression.objects.exists()


def test_a_postmark_hard_bounce_suppresses_and_a_soft_one_does_not():
    def post(kind, email):
        body = {
            "RecordType": "Bounce",
            "Type": kind,
            "Email": email,
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "BouncedAt": "2026-12-06T18:00:00Z",
            "Description": "The server was unable to deliver your message",
            "Details": "550 no mailbox",
        }
        return Client().post(
            "/anymail/postmark/tracking/",
            json.dumps(body),
            content_type="application/json",
            **basic_auth(),
        )

    assert post("HardBounce", "hard@example.org").status_code == 200
    assert post("SoftBounce", "soft@example.org").status_code == 200
    assert list(EmailSuppression.objects.values_list("address", "provider")) == [
        ("hard@example.org", "Postmark")
    ]


def test_a_provider_without_keys_or_a_body_of_the_wrong_shape_is_refused_not_a_500(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}  # no Mailgun signing key here
    assert post_mailgun(mailgun_event(BOUNCE), **basic_auth()).status_code == 404
    for junk in ("[1, 2]", "not json"):
        response = Client().post(
            "/anymail/postmark/tracking/", junk, content_type="application/json", **basic_auth()
        )
        assert response.status_code == 400, junk
    assert Client().get("/anymail/postmark/tracking/").status_code == 405
    no_address = Client().post(
        "/anymail/postmark/tracking/",
        '{"RecordType": "Bounce", "Type": "HardBounce"}',
        content_type="application/json",
        **basic_auth(),
    )
    assert no_address.status_code == 200  # taken, and nobody to suppress
    assert not EmailSuppression.objects.exists()
