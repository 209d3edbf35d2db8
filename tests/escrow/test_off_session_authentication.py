"""An off-session charge whose bank wants the supporter: localstripe and real Stripe answer it
differently, and both must put the pledge in ``needs_action`` with a way to complete it.

* localstripe answers the create with a PaymentIntent in ``requires_action``.
* Real Stripe answers HTTP 402, a ``card_error`` with code ``authentication_required`` that
  carries the PaymentIntent, now ``requires_payment_method`` with its ``last_payment_error``
  and without a payment method (``latest_charge`` an id string, ``amount_received`` present).

``RealStripeShapes`` stands between the gateway and localstripe and rewrites localstripe's
answers into real Stripe's, built on Stripe's own published example PaymentIntent
(tests/escrow/stripe_fixtures/fixtures3.json, as the response-shape tests read it).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core import mail

from escrow import needs_action as escrow_needs_action
from escrow.models import Payment
from escrow.reconcile import reconcile_slate
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import NEEDS_AUTH_ALWAYS, pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates, transactional

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent / "stripe_fixtures" / "fixtures3.json"
AUTHENTICATION_REQUIRED = {
    "type": "card_error",
    "code": "authentication_required",
    "decline_code": "authentication_required",
    "message": "Your card was declined. This transaction requires authentication.",
}


def stripe_example_payment_intent() -> dict:
    return json.loads(FIXTURES.read_text())["resources"]["payment_intent"]


def as_real_stripe(intent: dict, example: dict) -> dict:
    """localstripe's ``requires_action`` intent as real Stripe leaves an off-session one that
    needs authentication: Stripe's example object, carrying this intent's own facts."""
    real = json.loads(json.dumps(example))
    charge = intent.get("latest_charge")
    real.update(
        {
            key: intent[key]
            for key in ("id", "amount", "currency", "customer", "metadata", "client_secret")
        }
    )
    real.update(
        status="requires_payment_method",
        amount_capturable=0,
        amount_received=0,
        capture_method=intent.get("capture_method", "automatic"),
        payment_method=None,  # Stripe detaches it from the intent after the failure
        next_action=None,
        canceled_at=None,
        latest_charge=charge.get("id") if isinstance(charge, dict) else charge,
        last_payment_error={
            **AUTHENTICATION_REQUIRED,
            "payment_method": {"id": intent.get("payment_method"), "object": "payment_method"},
        },
    )
    return real


class RealStripeShapes:
    """A proxy in front of localstripe answering off-session authentication as Stripe does."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.example = stripe_example_payment_intent()
        self.answered_402 = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                skip = {"host", "content-length", "connection", "accept-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                request = urllib.request.Request(  # noqa: S310
                    proxy.upstream + self.path, data=body, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                        status, payload = response.status, json.loads(response.read())
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, json.loads(exc.read())
                status, payload = proxy.rewrite(self.command, self.path, status, payload)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def rewrite(self, method: str, path: str, status: int, payload: dict) -> tuple[int, dict]:
        path = path.split("?")[0]
        is_intent = payload.get("object") == "payment_intent"
        if not (status == 200 and is_intent and payload.get("status") == "requires_action"):
            return status, payload
        real = as_real_stripe(payload, self.example)
        if method == "POST" and path == "/v1/payment_intents":  # the off-session create
            self.answered_402 += 1
            charge = real["latest_charge"]
            return 402, {"error": {**AUTHENTICATION_REQUIRED, "charge": charge,
                                   "payment_intent": real}}  # fmt: skip
        return status, real

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["localstripe", "real Stripe"])
def stripe_answering(request, localstripe, settings):
    """The Stripe the gateway talks to: localstripe as it is, or shaped like real Stripe."""
    if request.param == "localstripe":
        yield None
        return
    if not FIXTURES.exists():
        pytest.fail(f"Stripe's example objects not found: {FIXTURES}")
    proxy = RealStripeShapes(localstripe.url)
    settings.STRIPE_API_BASE = proxy.url
    try:
        yield proxy
    finally:
        settings.STRIPE_API_BASE = localstripe.url
        proxy.close()


def test_an_off_session_charge_needing_authentication_needs_the_supporter(
    stripe_answering, localstripe, client, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate, card=NEEDS_AUTH_ALWAYS, amount_cents=6_100)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)  # the lock; the release charges off-session

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    payment = pledge.payments.get()
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.payment_intent_id and payment.client_secret
    if stripe_answering is not None:
        assert stripe_answering.answered_402 == 1
        assert payment.last_error == "authentication_required"
    # The supporter is asked to authenticate, not to bring another card, on the saved one.
    [email] = [m for m in transactional(mail.outbox) if m.to == [pledge.supporter.email]]
    assert f"/pledges/{pledge.pk}/complete-payment/" in email.body
    client.force_login(pledge.supporter)
    page = client.get(f"/pledges/{pledge.pk}/complete-payment/")
    assert page.context["needs_new_card"] is False
    assert page.context["client_secret"] == payment.client_secret
    assert page.context["payment_method_id"] == payment.card_setup.payment_method_id
    assert Slate.objects.get(pk=slate.pk).state == SlateState.RELEASING
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []

    # They pass 3-D Secure in Stripe.js on the saved card; the payment is taken once.
    localstripe.authenticate_payment_intent(payment.payment_intent_id)
    escrow_needs_action.refresh_payment(payment_id=payment.pk)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []
