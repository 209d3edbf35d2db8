"""Delivery facts from the mail provider: its tracking webhook (django-anymail's views, which
check the basic-auth secret and Mailgun's signature) suppresses a bounced or complaining
address, and nothing is sent to it after; a forged or unauthenticated call changes nothing, nor
does a correctly signed Mailgun call replayed (its token seen before) or stale."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.test import Client
from django.utils import timezone

from slate import mail
from slate.models import EmailOptOut, EmailSuppression, MailgunWebhookToken, OutboundEmail
from tests.factories import make_open_slate
from tests.polling import wait_for

pytestmark = pytest.mark.django_db

SECRET = "hooks:correct-horse"
SIGNING_KEY = "mailgun-signing-key-for-tests"


@pytest.fixture(autouse=True)
def provider(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def basic_auth(credentials: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_event(
    event_data: dict,
    *,
    key: str = SIGNING_KEY,
    age: float = 0,
    token: str | None = None,
    timestamp: str | None = None,
) -> str:
    """A Mailgun webhook body as Mailgun signs it: HMAC-SHA256 of timestamp + token (a fresh
    random token unless given; the timestamp ``age`` seconds ago unless given)."""
    timestamp = timestamp or str(int(time.time() - age))
    token = token or secrets.token_hex(25)
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
    # the same event again (the provider retries, freshly signed) changes nothing
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


# --- Replays of correctly signed Mailgun calls --------------------------------------------------

COMPLAINT = {"event": "complained", "recipient": "angry@example.org"}


def lift_suppressions():
    """Staff lift the suppression, so a replayed complaint would show by suppressing again."""
    EmailSuppression.objects.all().delete()


def test_a_replayed_signed_call_changes_nothing_and_answers_406():
    body = mailgun_event(COMPLAINT)
    assert post_mailgun(body, **basic_auth()).status_code == 200
    lift_suppressions()
    replay = post_mailgun(body, **basic_auth())
    assert replay.status_code == 406
    assert b"received before" in replay.content
    assert not EmailSuppression.objects.exists()


def test_the_seen_tokens_are_rows_that_outlive_a_restart_and_its_caches():
    body = mailgun_event(COMPLAINT)
    assert post_mailgun(body, **basic_auth()).status_code == 200
    lift_suppressions()
    cache.clear()  # a restarted server, or a flushed Redis, remembers the token all the same
    assert post_mailgun(body, **basic_auth()).status_code == 406
    assert MailgunWebhookToken.objects.count() == 1
    assert not EmailSuppression.objects.exists()


@pytest.mark.parametrize(
    ("age", "why"),
    [(12 * 3600 + 60, b"too old"), (-10 * 60, b"in the future")],
    ids=["older than the window", "ten minutes ahead"],
)
def test_a_stale_or_future_signed_call_changes_nothing_and_answers_406(age, why):
    response = post_mailgun(mailgun_event(COMPLAINT, age=age), **basic_auth())
    assert response.status_code == 406
    assert why in response.content
    assert not EmailSuppression.objects.exists()
    assert not MailgunWebhookToken.objects.exists()


@pytest.mark.parametrize("timestamp", ["soon", "nan", "1e400", "-1e20"])
def test_a_signed_timestamp_that_is_not_a_time_is_refused_not_a_500(timestamp):
    body = mailgun_event(COMPLAINT, timestamp=timestamp)
    response = post_mailgun(body, **basic_auth())
    assert response.status_code == 406
    assert not EmailSuppression.objects.exists()


def test_a_mailgun_retry_hours_later_is_still_taken(settings):
    """Mailgun retries for about 8 hours; the default window takes the last retry even if it
    carries the first attempt's signature. The window is a setting."""
    assert post_mailgun(mailgun_event(COMPLAINT, age=8 * 3600), **basic_auth()).status_code == 200
    assert EmailSuppression.objects.exists()
    settings.SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS = 600
    lift_suppressions()
    assert post_mailgun(mailgun_event(COMPLAINT, age=601), **basic_auth()).status_code == 406
    assert not EmailSuppression.objects.exists()


def test_a_forged_call_does_not_use_up_the_token_of_the_real_one():
    token = secrets.token_hex(25)
    forged = mailgun_event(COMPLAINT, key="a guessed key", token=token)
    assert post_mailgun(forged, **basic_auth()).status_code == 400
    assert post_mailgun(mailgun_event(COMPLAINT, token=token), **basic_auth()).status_code == 200
    assert EmailSuppression.objects.exists()


def test_a_call_that_failed_keeps_no_token_so_the_providers_retry_is_taken(monkeypatch):
    body = mailgun_event(COMPLAINT)
    real_suppress = mail.suppress

    def database_hiccup(*args, **kwargs):
        monkeypatch.setattr(mail, "suppress", real_suppress)
        raise DatabaseError("connection lost")

    monkeypatch.setattr(mail, "suppress", database_hiccup)
    failed = Client(raise_request_exception=False).post(
        "/anymail/mailgun/tracking/", body, content_type="application/json", **basic_auth()
    )
    assert failed.status_code == 500
    assert not MailgunWebhookToken.objects.exists()
    assert post_mailgun(body, **basic_auth()).status_code == 200
    assert EmailSuppression.objects.get().address == "angry@example.org"


def test_tokens_past_the_window_are_forgotten_as_new_calls_arrive():
    MailgunWebhookToken.objects.create(
        token_sha256="0" * 64, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert post_mailgun(mailgun_event(COMPLAINT), **basic_auth()).status_code == 200
    assert MailgunWebhookToken.objects.exclude(token_sha256="0" * 64).count() == 1
    assert not MailgunWebhookToken.objects.filter(token_sha256="0" * 64).exists()


def test_a_replayed_legacy_form_call_is_refused_too():
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    form = {
        "event": "complained",
        "recipient": "angry@example.org",
        "Message-Id": "<20261206.1@mg.example.org>",
        "timestamp": timestamp,
        "token": token,
        "signature": signature.hexdigest(),
    }
    assert Client().post("/anymail/mailgun/tracking/", form, **basic_auth()).status_code == 200
    lift_suppressions()
    assert Client().post("/anymail/mailgun/tracking/", form, **basic_auth()).status_code == 406
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


def someone_waits_on_a_lock() -> bool:
    """Whether a backend of this test database is blocked on a lock, asked on a connection of
    its own (inside a transaction pg_stat_activity is a snapshot)."""
    watcher = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with watcher.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0
    finally:
        watcher.close()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_of_one_signed_call_act_once(monkeypatch):
    """The first holds its transaction open inside the event's work; the second, carrying the
    same token, waits for it on the token's unique index and then is refused."""
    body = mailgun_event(COMPLAINT)
    inside, release = threading.Event(), threading.Event()
    real_suppress, calls = mail.suppress, []

    def held_suppress(*args, **kwargs):
        calls.append(args)
        inside.set()
        assert release.wait(timeout=30)
        return real_suppress(*args, **kwargs)

    monkeypatch.setattr(mail, "suppress", held_suppress)
    statuses = {}  # by thread: the two answers may arrive in either order

    def deliver(name):
        try:
            statuses[name] = post_mailgun(body, **basic_auth()).status_code
        finally:
            connection.close()

    first = threading.Thread(target=deliver, args=["first"])
    first.start()
    assert inside.wait(timeout=30)
    second = threading.Thread(target=deliver, args=["second"])
    second.start()
    try:
        assert wait_for(someone_waits_on_a_lock)
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    assert statuses == {"first": 200, "second": 406}
    assert len(calls) == 1
    assert EmailSuppression.objects.count() == 1
    assert MailgunWebhookToken.objects.count() == 1
