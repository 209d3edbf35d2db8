"""Partner webhooks cannot reach inside: no redirects, no second DNS lookup, one deadline.

Every receiver here listens on loopback. 127.0.0.2 plays a public address (the tests' setting
SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS, which production refuses to start with; see
tests/test_deploy.py) and 127.0.0.1 plays our internal network, which must hear nothing.
"""

import socket
import threading
import time
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from api import outbound, webhooks
from api.models import WebhookDelivery
from tests.factories import sign, slate_candidates
from tests.recording_server import RecordingServer

pytestmark = pytest.mark.django_db

PUBLIC_LOOKING = "127.0.0.2"
INTERNAL = "127.0.0.1"
only_127_0_0_2_is_public = override_settings(
    SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS=[f"{PUBLIC_LOOKING}/32"]
)


def _register(world, url: str):
    # The endpoint row directly: the API refuses loopback URLs written out as addresses.
    return world.organization.webhook_endpoints.create(url=url, secret="whsec_test")


def _deliver_one(world, django_capture_on_commit_callbacks) -> WebhookDelivery:
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(world.slate)[2], world.slate)
    return WebhookDelivery.objects.get()


@only_127_0_0_2_is_public
def test_a_redirect_to_an_internal_address_reaches_nothing(
    world, django_capture_on_commit_callbacks
):
    with RecordingServer(INTERNAL) as internal:
        redirect = [("Location", f"http://{INTERNAL}:{internal.port}/admin/secrets")]
        with RecordingServer(PUBLIC_LOOKING, status=302, headers=redirect) as receiver:
            _register(world, f"http://{PUBLIC_LOOKING}:{receiver.port}/hooks")
            delivery = _deliver_one(world, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert internal.requests == []
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert "redirects are not followed" in delivery.last_error


def _listen_on_both(status: int = 200) -> tuple[RecordingServer, RecordingServer]:
    """The public-looking receiver and the internal service, on one port number."""
    for _ in range(20):
        internal = RecordingServer(INTERNAL)
        try:
            return RecordingServer(PUBLIC_LOOKING, port=internal.port, status=status), internal
        except OSError:  # that port is taken on 127.0.0.2; try another
            internal.httpd.server_close()
    pytest.fail("no port free on both loopback addresses")


@only_127_0_0_2_is_public
def test_a_name_that_resolves_to_a_private_address_on_the_second_lookup_reaches_nothing(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    name = "hooks.rebinding.test"
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != name:
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        answer = PUBLIC_LOOKING if len(lookups) == 1 else INTERNAL  # public for the check only
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    receiver, internal = _listen_on_both()
    with receiver, internal:
        _register(world, f"http://{name}:{receiver.port}/hooks")
        delivery = _deliver_one(world, django_capture_on_commit_callbacks)
    assert internal.requests == []
    assert len(receiver.requests) == 1
    # The receiver still sees its own name: only the address was pinned.
    assert receiver.requests[0]["headers"]["Host"] == f"{name}:{receiver.port}"
    assert delivery.status == "succeeded"


class Trickler:
    """Answers a request one byte of header at a time, never quite slowly enough for a
    per-read timeout to fire; finishes after ``trickle_seconds`` (so a broken client ends)."""

    def __init__(self, trickle_seconds: float = 12.0, pause: float = 0.1):
        self.sock = socket.create_server((INTERNAL, 0))
        self.port = self.sock.getsockname()[1]
        self.trickle_seconds, self.pause = trickle_seconds, pause
        self.cut_off = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        connection, _ = self.sock.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                ends = time.monotonic() + self.trickle_seconds
                while time.monotonic() < ends:
                    connection.sendall(b"a")
                    time.sleep(self.pause)  # the trickle itself, not a synchronization
                connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                self.cut_off.set()  # the client hung up

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(timeout=15)


@override_settings(SLATE_WEBHOOK_DEADLINE_SECONDS=1)
def test_a_receiver_trickling_bytes_is_cut_off_at_the_deadline(world):
    # Loopback counts as public here (the tests' default, as in development).
    with Trickler() as trickler:
        _register(world, f"http://{INTERNAL}:{trickler.port}/hooks")
        delivery = WebhookDelivery.objects.create(
            endpoint=world.organization.webhook_endpoints.get(), event_id=uuid.uuid4(),
            event_type="slate.locked", event_key="trickle", payload={},
            next_attempt_at=timezone.now(),
        )  # fmt: skip
        started = time.monotonic()
        webhooks.attempt_delivery(delivery_id=delivery.pk)
        elapsed = time.monotonic() - started
    delivery.refresh_from_db()
    assert elapsed < 2.5, f"the delivery held the worker for {elapsed:.1f} s"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "no answer within 1 s" in delivery.last_error
    assert delivery.next_attempt_at is not None  # tried again later, with backoff


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo (client 10.0.0.1)
        ("224.0.0.1", False),
    ],
)
def test_which_addresses_count_as_public(address, public, settings):
    settings.SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    assert outbound.address_is_public(address) is public
