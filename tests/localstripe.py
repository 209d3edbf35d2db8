"""localstripe, the fake Stripe server, for every test that moves money (tests/conftest.py
makes these fixtures the whole suite's, so a test process starts one localstripe, not one per
test folder).

``localstripe_server`` (session: one per test process, so one per parallel worker) runs
localstripe through our launcher (``python -m escrow.devstripe --port 0 --port-file <tmp>
--store none --from-scratch``, which also teaches it the current API's parameter names) and
yields its base URL. ``localstripe`` (per test) empties it, points
the settings at it and yields a :class:`LocalStripe` handle with helpers that look at its state
over HTTP.

What localstripe does not do (checked against 1.15.10): it ignores Idempotency-Key (a repeated
create makes a second object), has no Connect (transfers answer 404), lets a canceled
PaymentIntent be captured or refunded, and a registered webhook outlives ``DELETE
/_config/data``; the handle silences the webhooks it registered when the test ends. Stock
localstripe pickles its whole store to the fixed /tmp/localstripe.pickle (shared with any other
localstripe on the machine) after every write; the tests' keeps it in memory only, and listens
on a port the system picked as it bound it (written to a file in the session's temporary
directory), so parallel workers cannot race for one port.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SECRET_KEY = "sk_test_slate"
PUBLISHABLE_KEY = "pk_test_slate"
WEBHOOK_SECRET = "whsec_test_slate"
START_TIMEOUT_SECONDS = 30
REPO_ROOT = Path(__file__).resolve().parents[1]


def _request(
    method: str, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class LocalStripe:
    url: str
    api_key: str = SECRET_KEY
    webhook_secret: str = WEBHOOK_SECRET
    _webhook_ids: list[str] = field(default_factory=list)

    # --- raw access ---------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET /v1/... as JSON; AssertionError on anything but 200."""
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        status, body = _request("GET", f"{self.url}{path}{query}", headers=self._auth())
        assert status == 200, f"GET {path}{query} -> {status} {body[:300]!r}"
        return json.loads(body)

    def post(self, path: str, **form: Any) -> tuple[int, dict[str, Any]]:
        """POST /v1/... with form fields: (status, JSON body), whatever the status."""
        headers = {**self._auth(), "Content-Type": "application/x-www-form-urlencoded"}
        data = urllib.parse.urlencode(form).encode()
        status, body = _request("POST", f"{self.url}{path}", data=data, headers=headers)
        return status, json.loads(body)

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every object of a list endpoint, following has_more."""
        items: list[dict[str, Any]] = []
        starting_after = None
        while True:
            page_params = {"limit": 100, **params}
            if starting_after:
                page_params["starting_after"] = starting_after
            page = self.get(path, **page_params)
            items.extend(page["data"])
            if not page.get("has_more") or not page["data"]:
                return items
            starting_after = page["data"][-1]["id"]

    def reset(self) -> None:
        status, body = _request("DELETE", f"{self.url}/_config/data")
        assert status == 200, f"reset -> {status} {body!r}"

    # --- webhooks -----------------------------------------------------------------------------

    def register_webhook(self, url: str, *, events: list[str] | None = None) -> str:
        """Have localstripe POST every event (or only ``events``) to ``url``, signed with
        ``webhook_secret``. Events are sent about a second after the change, so a test may
        also receive a late event from an earlier test: match on the object id."""
        webhook_id = f"wh_{uuid.uuid4().hex[:12]}"
        self._configure_webhook(webhook_id, {"url": url, "secret": self.webhook_secret}, events)
        self._webhook_ids.append(webhook_id)
        return webhook_id

    def _configure_webhook(
        self, webhook_id: str, fields: dict[str, str], events: list[str] | None
    ) -> None:
        body: dict[str, Any] = dict(fields)
        if events is not None:
            body["events"] = events
        status, response = _request(
            "POST",
            f"{self.url}/_config/webhooks/{webhook_id}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, f"webhook config -> {status} {response!r}"

    def silence_webhooks(self) -> None:
        """localstripe cannot delete a webhook: re-register ours to listen to no event."""
        for webhook_id in self._webhook_ids:
            self._configure_webhook(
                webhook_id, {"url": "http://127.0.0.1:9/", "secret": self.webhook_secret}, []
            )
        self._webhook_ids.clear()

    # --- what happened to the money -----------------------------------------------------------

    def charges_of(self, payment_intent_id: str) -> list[dict[str, Any]]:
        return [c for c in self.list_all("/v1/charges") if c["payment_intent"] == payment_intent_id]

    def count_captures(self, payment_intent_id: str) -> int:
        """How many times money was taken for this PaymentIntent: the balance transactions of
        type ``charge`` whose source is one of its charges. localstripe writes exactly one when a
        charge is captured (at once for automatic capture, at ``/capture`` for a hold), none
        for a hold that was never captured or was declined, and refunds are separate
        transactions of type ``refund`` (not counted). localstripe refuses a second capture of
        one intent, so doubling shows up as two intents for one pledge: see
        :meth:`count_captures_for`."""
        charge_ids = {c["id"] for c in self.charges_of(payment_intent_id)}
        return sum(
            1
            for txn in self.list_all("/v1/balance_transactions")
            if txn["type"] == "charge" and txn["source"] in charge_ids
        )

    def payment_intents_for(self, **metadata: Any) -> list[dict[str, Any]]:
        """Every PaymentIntent whose metadata includes these pairs (values compared as str)."""
        wanted = {k: str(v) for k, v in metadata.items()}
        return [
            pi
            for pi in self.list_all("/v1/payment_intents")
            if all((pi.get("metadata") or {}).get(k) == v for k, v in wanted.items())
        ]

    def count_captures_for(self, **metadata: Any) -> int:
        """Captures summed over every PaymentIntent carrying this metadata, e.g.
        ``count_captures_for(pledge_id=42) == 1`` proves the pledge was charged exactly once,
        whatever number of intents was created for it."""
        return sum(self.count_captures(pi["id"]) for pi in self.payment_intents_for(**metadata))

    def captured_cents_for(self, **metadata: Any) -> int:
        """Money taken (before refunds) over the intents carrying this metadata: the sum of
        the captured ``charge`` balance transactions, less the remainder localstripe books as
        a refund when a hold is captured in part (a refund that names no PaymentIntent)."""
        total = 0
        for pi in self.payment_intents_for(**metadata):
            for charge in self.charges_of(pi["id"]):
                if not charge["captured"] or charge["status"] != "succeeded":
                    continue
                released = sum(
                    r["amount"]
                    for r in self.list_all("/v1/refunds", charge=charge["id"])
                    if not r.get("payment_intent")
                )
                total += charge["amount"] - released
        return total

    # --- what Stripe.js would do in the browser -----------------------------------------------

    def authenticate_payment_intent(self, payment_intent_id: str, *, success: bool = True) -> dict:
        """Complete (or fail) the 3-D Secure step of a ``requires_action`` PaymentIntent, as
        localstripe's Stripe.js does with ``confirmCardPayment``: success creates the charge
        (a hold becomes ``requires_capture``)."""
        intent = self.get(f"/v1/payment_intents/{payment_intent_id}")
        query = urllib.parse.urlencode({"success": "true" if success else "false"})
        status, body = _request(
            "POST",
            f"{self.url}/v1/payment_intents/{payment_intent_id}/_authenticate?{query}",
            data=json.dumps(
                {"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"]}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, f"authenticate -> {status} {body[:300]!r}"
        return json.loads(body)


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory) -> Iterator[str]:
    if not (Path(sys.executable).parent / "localstripe").exists():
        pytest.fail("localstripe not found: install the dev extra (pip install -e '.[dev]')")
    workdir = tmp_path_factory.mktemp("localstripe")
    log_path, port_path = workdir / "localstripe.log", workdir / "port"
    # Through our launcher, as `make run` does: it speaks the current API's parameter names.
    # Run from the repository root so that it is this tree's escrow.devstripe that is imported.
    command = [sys.executable, "-m", "escrow.devstripe", "--port", "0",
               "--port-file", str(port_path), "--store", "none", "--from-scratch"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"localstripe exited with {process.returncode}: {log_path.read_text()}")
            if port_path.exists():
                url = f"http://127.0.0.1:{port_path.read_text()}"
                try:
                    status, _ = _request("GET", f"{url}/js.stripe.com/v3/")
                    if status == 200:
                        break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                pytest.fail(f"localstripe did not answer within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_server, settings) -> Iterator[LocalStripe]:
    handle = LocalStripe(url=localstripe_server)
    handle.reset()
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    # localstripe has no idempotency: a client-side retry could create a second object.
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    try:
        yield handle
    finally:
        handle.silence_webhooks()
