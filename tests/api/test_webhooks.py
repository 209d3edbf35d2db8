"""Outbound webhooks: signed deliveries to a real HTTP receiver on 127.0.0.1, retries after
a failure, backoff, the delivery log, and who may see it."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from api import tasks, webhooks
from api.models import WebhookDelivery
from slate.events import slate_locked
from slate.models import Slate
from tests.factories import sign, slate_candidates

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records each POST and answers from a script of statuses."""

    def __init__(self, statuses=(200,)):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/slate"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    # Computed here from the documented recipe, not with the module's own helper.
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _register(world, url: str, event_types=None) -> dict:
    body = {"url": url} if event_types is None else {"url": url, "event_types": event_types}
    response = world.client("partner_admin").post(
        f"/api/v1/partners/{world.organization.slug}/webhooks", body, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _sign_next_candidate(world):
    candidate = slate_candidates(world.slate)[2]
    return sign(candidate, world.slate)


def test_a_signature_is_delivered_signed(world, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint = _register(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _sign_next_candidate(world)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    header = request["headers"]["Slate-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    assert abs(int(parts["t"]) - time.time()) < 60
    assert parts["v1"] == _expected_signature(endpoint["secret"], parts["t"], request["body"])
    event = json.loads(request["body"])
    assert event["type"] == "signature.signed"
    assert event["slate"] == world.slate.slug
    assert event["data"]["signed_candidates"] == 2
    assert request["headers"]["Slate-Event-Id"] == event["id"]
    # The helper receivers can use agrees, and refuses a tampered body or a wrong secret.
    assert webhooks.verify_signature(endpoint["secret"], header, request["body"])
    assert not webhooks.verify_signature(endpoint["secret"], header, request["body"] + b" ")
    assert not webhooks.verify_signature("whsec_wrong", header, request["body"])
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1


@override_settings(SLATE_WEBHOOK_RETRY_BASE_SECONDS=0)
def test_a_failed_delivery_is_retried_until_the_receiver_accepts(
    world, django_capture_on_commit_callbacks
):
    with Receiver(statuses=(500, 503, 200)) as receiver:
        _register(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _sign_next_candidate(world)
    assert [json.loads(r["body"])["id"] for r in receiver.requests] == [
        json.loads(receiver.requests[0]["body"])["id"]
    ] * 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)


def test_retries_back_off_and_give_up(world, django_capture_on_commit_callbacks):
    with Receiver(statuses=(500,)) as receiver:
        _register(world, receiver.url)
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            _sign_next_candidate(world)
        after = timezone.now()
        delivery = WebhookDelivery.objects.get()
        # One attempt; the next is due 30 s after it (not sent early, even by the eager retry).
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending",
            1,
            500,
        )
        # Bracketed by the clock read before and after the attempt: no slack either way.
        assert before + timedelta(seconds=30) <= delivery.next_attempt_at
        assert delivery.next_attempt_at <= after + timedelta(seconds=30)
        assert tasks.send_due_webhooks() == 0
        delays = []
        with override_settings(SLATE_WEBHOOK_MAX_ATTEMPTS=4):
            for _ in range(3):
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=timezone.now()
                )
                before = timezone.now()
                assert tasks.send_due_webhooks() == 1
                after = timezone.now()
                delivery.refresh_from_db()
                if delivery.next_attempt_at:
                    delays.append(
                        next(
                            seconds
                            for seconds in (30, 60, 120, 240)
                            if before + timedelta(seconds=seconds)
                            <= delivery.next_attempt_at
                            <= after + timedelta(seconds=seconds)
                        )
                    )
    assert delays == [60, 120]  # 30 s, then doubling
    assert (delivery.status, delivery.attempts) == ("failed", 4)
    assert len(receiver.requests) == 4


def test_an_event_announced_twice_is_delivered_once(world, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        _register(world, receiver.url, event_types=["slate.locked"])
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(2):  # the slate's outbox sends at least once
                slate_locked.send(
                    sender=Slate, slate_id=world.slate.pk, transition_id=991,
                    from_state="open", to_state="locked",
                )  # fmt: skip
            _sign_next_candidate(world)  # not subscribed
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["slate.locked"]


def test_only_endorsing_organizations_hear_of_a_slate(world, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        _register(world, receiver.url)
        other = world.other_slate
        with django_capture_on_commit_callbacks(execute=True):
            sign(slate_candidates(other)[0], other)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_an_unverified_organization_hears_nothing(world, django_capture_on_commit_callbacks):
    from slate import partners as slate_partners

    with Receiver() as receiver:
        _register(world, receiver.url)
        slate_partners.unverify_partner_organization(
            organization=world.organization, actor=world.users["staff"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            _sign_next_candidate(world)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_pledge_counted_event_names_no_donor(world, django_capture_on_commit_callbacks):
    from pledges import intake as pledge_intake

    with Receiver() as receiver:
        _register(world, receiver.url, event_types=["pledge.counted"])
        with django_capture_on_commit_callbacks(execute=True):
            pledge_intake.sign_on(supporter=world.users["other_supporter"], slate=world.slate)
    event = json.loads(receiver.requests[0]["body"])
    assert event["type"] == "pledge.counted"
    assert event["data"]["pledge"]["kind"] == "signon"
    assert event["data"]["totals"]["signon_count"] == 1
    assert world.users["other_supporter"].email.encode() not in receiver.requests[0]["body"]


def test_private_addresses_are_never_called_in_production(
    world, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        _register(world, receiver.url)  # loopback is allowed while registering, not after
        with (
            override_settings(SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS=[]),
            django_capture_on_commit_callbacks(execute=True),
        ):
            _sign_next_candidate(world)
    assert receiver.requests == []
    assert "address not allowed" in WebhookDelivery.objects.get().last_error


@override_settings(SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS=[])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]:8080/x",
        "http://[::ffff:10.0.0.1]/",
        "http://169.254.169.254/",
    ],
)
def test_a_private_address_written_out_is_refused_when_registering(world, url):
    response = world.client("partner_admin").post(
        f"/api/v1/partners/{world.organization.slug}/webhooks", {"url": url}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["url"] == ["Use a public address, not a private one."]


def test_the_delivery_log(world, django_capture_on_commit_callbacks):
    with Receiver(statuses=(500,)) as receiver:
        endpoint = _register(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _sign_next_candidate(world)
    url = f"/api/v1/partners/{world.organization.slug}/webhooks/{endpoint['id']}/deliveries"
    log = world.client("partner_admin").get(url).json()["results"]
    assert [(d["event_type"], d["status"], d["last_status_code"]) for d in log] == [
        ("signature.signed", "pending", 500)
    ]
    assert world.client("organizer").get(url).status_code == 403
    assert world.client("partner_admin").get(f"{url}?status=bogus").status_code == 400


def test_the_webhooks_page_registers_and_shows_the_log(client, world):
    client.force_login(world.users["partner_admin"])
    page = f"/api/partners/{world.organization.slug}/webhooks/"
    response = client.post(page, {"url": "https://hooks.example.org/slate"})
    assert response.status_code == 200
    assert response.context["new_endpoint"].secret.encode() in response.content
    assert client.post(page, {"url": "ftp://example.org"}).status_code == 400
    client.force_login(world.users["organizer"])
    assert client.get(page).status_code == 404


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "not a url", "", "http://", "https://example.org:99999/"]
)
def test_bad_urls_are_refused(world, url):
    response = world.client("partner_admin").post(
        f"/api/v1/partners/{world.organization.slug}/webhooks", {"url": url}, format="json"
    )
    assert response.status_code == 400
    assert "url" in response.json()["fields"]


def test_the_webhooks_page_needs_two_factor(client, world):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=world.users["partner_admin"]).delete()
    client.force_login(world.users["partner_admin"])
    page = client.post(
        f"/api/partners/{world.organization.slug}/webhooks/", {"url": "https://x.example.org/"}
    )
    assert page.status_code == 302
    assert not world.organization.webhook_endpoints.exists()


def test_the_partner_dashboard_links_to_the_webhooks_page(client, world):
    client.force_login(world.users["partner_admin"])
    page = client.get(f"/orgs/{world.organization.slug}/dashboard/")
    assert f'href="/api/partners/{world.organization.slug}/webhooks/"'.encode() in page.content
