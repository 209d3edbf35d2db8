"""Slate's mail provider backends (slate.mail_transport) against a local HTTP server posing as
the provider: a normal send works; a redirect is not followed (the host it points at sees
nothing) and fails the send as any mail error does (nothing recorded, the retry sends); a
request for another host or scheme is refused before connecting; proxy variables are ignored;
a provider that stops answering is given up on after EMAIL_TIMEOUT."""

import json
import logging
import time

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailConfigurationError
from django.core.mail import EmailMessage

from slate import mail, mail_transport
from slate.models import OutboundEmail
from tests.recording_server import RecordingServer

pytestmark = pytest.mark.django_db

PROVIDER_HOST = "127.0.0.1"
ELSEWHERE_HOST = "127.0.0.2"  # another host: loopback answers on all of 127/8
MAILGUN_QUEUED = {"id": "<20260101.1@mg.example.org>", "message": "Queued. Thank you."}


@pytest.fixture
def provider():
    server = RecordingServer(
        PROVIDER_HOST, body=json.dumps(MAILGUN_QUEUED).encode(), content_type="application/json"
    ).start()
    yield server
    server.close()


@pytest.fixture
def elsewhere():
    server = RecordingServer(ELSEWHERE_HOST, body=b"{}", content_type="application/json").start()
    yield server
    server.close()


BACKEND_SETTINGS = {
    "Mailgun": {"MAILGUN_API_KEY": "key-test", "MAILGUN_SENDER_DOMAIN": "mg.example.org"},
    "Postmark": {"POSTMARK_SERVER_TOKEN": "server-token-test"},
    "SendGrid": {"SENDGRID_API_KEY": "SG.test"},
}


@pytest.fixture
def use_provider(settings, provider):
    """Point Slate's backend for ``esp`` at the local provider (plain http allowed to it)."""

    def use(esp: str = "Mailgun", api_url: str | None = None):
        settings.EMAIL_BACKEND = f"slate.mail_transport.{esp}Backend"
        settings.SLATE_MAIL_API_HTTP_HOSTS = [PROVIDER_HOST]
        settings.ANYMAIL = {
            **BACKEND_SETTINGS[esp],
            f"{esp.upper()}_API_URL": api_url or f"{provider.url}/v3/",
        }

    use()
    return use


def news(to="fan@example.org"):
    return mail.Email(
        to=to,
        subject="News",
        template="organizing/email/deadline_extended.txt",
        context={"slate": None, "extension": None, "url": "https://example.org/"},
    )


def test_a_send_through_the_pinned_backend_reaches_the_provider(provider, use_provider):
    assert mail.send(news(), once="news:1") is True
    [request] = provider.requests
    assert (request["method"], request["path"]) == ("POST", "/v3/mg.example.org/messages")
    assert request["headers"]["Authorization"].startswith("Basic ")  # api:key-test
    row = OutboundEmail.objects.get()
    assert (row.status, row.provider_message_id) == ("sent", MAILGUN_QUEUED["id"])


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_not_followed_and_the_send_fails_and_records_nothing(
    provider, elsewhere, use_provider, status, caplog
):
    # The module's own level, not the root's: a Celery worker set up earlier in the same
    # process (the real-worker tests) may have raised the root logger's level.
    caplog.set_level(logging.WARNING, logger="slate.mail_transport")
    provider.status = status
    provider.headers = [("Location", f"{elsewhere.url}/v3/mg.example.org/messages")]
    with pytest.raises(AnymailAPIError, match="redirects are not followed"):
        mail.send(news(), once="news:1")
    assert len(provider.requests) == 1
    assert elsewhere.requests == []
    assert "not followed" in caplog.text
    # As any mail error: nothing recorded, so the task's retry sends.
    assert not OutboundEmail.objects.exists()
    provider.status, provider.headers = 200, []
    assert mail.send(news(), once="news:1") is True
    assert OutboundEmail.objects.get().status == "sent"


@pytest.mark.parametrize("esp", ["Mailgun", "Postmark", "SendGrid"])
def test_each_provider_backend_refuses_to_follow_a_redirect(provider, elsewhere, use_provider, esp):
    use_provider(esp)
    provider.status = 308
    provider.headers = [("Location", f"{elsewhere.url}/steal")]
    message = EmailMessage("Hi", "Body", "noreply@mg.example.org", ["fan@example.org"])
    with pytest.raises(AnymailAPIError, match="HTTP 308"):
        message.send()
    assert len(provider.requests) == 1 and elsewhere.requests == []


@pytest.mark.parametrize(
    "url",
    [
        f"http://{ELSEWHERE_HOST}:{{elsewhere}}/v3/mg.example.org/messages",  # another host
        "http://localhost:{provider}/v3/mg.example.org/messages",  # another name, same server
        "http://127.0.0.1:{elsewhere}/v3/mg.example.org/messages",  # another port
        "https://127.0.0.1:{provider}/v3/mg.example.org/messages",  # another scheme
    ],
)
def test_the_session_refuses_any_other_origin_before_connecting(
    provider, elsewhere, use_provider, url
):
    backend = mail_transport.MailgunBackend()
    backend.open()
    with pytest.raises(mail_transport.DestinationRefused, match="refused to connect"):
        backend.session.post(url.format(provider=provider.port, elsewhere=elsewhere.port))
    backend.close()
    assert provider.requests == [] and elsewhere.requests == []


@pytest.mark.parametrize(
    "api_url",
    ["http://{host}:{port}/v3/", "ftp://{host}:{port}/v3/", "not a url"],
)
def test_a_configured_api_url_that_is_not_https_is_refused(
    provider, use_provider, settings, api_url
):
    """Plain http only to the hosts SLATE_MAIL_API_HTTP_HOSTS names (none in production)."""
    use_provider(api_url=api_url.format(host=PROVIDER_HOST, port=provider.port))
    settings.SLATE_MAIL_API_HTTP_HOSTS = []
    with pytest.raises(AnymailConfigurationError, match="https only"):
        mail.send(news(), once="news:1")
    assert provider.requests == []
    assert not OutboundEmail.objects.exists()


def test_proxy_variables_are_ignored(provider, elsewhere, use_provider, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, elsewhere.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # The environment would send a plain session through the "proxy" (the test's premise).
    assert requests.Session().merge_environment_settings(provider.url, {}, None, None, None)[
        "proxies"
    ]
    assert mail.send(news()) is True
    assert len(provider.requests) == 1
    assert elsewhere.requests == []


def test_a_provider_that_stops_answering_is_given_up_on_after_email_timeout(
    provider, use_provider, settings
):
    settings.EMAIL_TIMEOUT = 1
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 30}  # anymail's own: too long
    provider.hang = True
    message = EmailMessage("Hi", "Body", "noreply@mg.example.org", ["fan@example.org"])
    started = time.monotonic()
    with pytest.raises(AnymailAPIError, match="Read timed out"):
        message.send()
    # Well under anymail's 30 s (a loaded machine may take a few seconds more than the 1 s).
    assert time.monotonic() - started < 15
    assert len(provider.requests) == 1
