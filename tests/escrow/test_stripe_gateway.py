"""escrow.stripe_gateway against localstripe over HTTP (no database).

The assertions record what localstripe 1.15.10 answers for each test card; where real Stripe
answers differently the test says so, because the services must handle both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from escrow import stripe_gateway as gateway
from escrow import stripe_payouts, webhooks
from escrow.stripe_gateway import GatewayError, WebhookSignatureError

OK_CARD = "4242424242424242"
DECLINED_AT_ATTACH = "4000000000000002"  # localstripe: declined when saved (SetupIntent/attach)
DECLINED_AT_CHARGE = "4000000000000341"  # saves fine, every charge is declined
THREE_DS_CARDS = ["4000002500003155", "4000002760003184"]


def saved_card(card_number: str = OK_CARD) -> tuple[str, str]:
    """(customer_id, payment_method_id) for a card saved through a confirmed SetupIntent."""
    customer_id = gateway.create_customer(
        email="supporter@slate.test", idempotency_key=f"cus-{card_number}", metadata={"user_id": 7}
    )
    setup = gateway.create_setup_intent(
        customer_id=customer_id, idempotency_key=f"seti-{card_number}", metadata={"pledge_id": 1}
    )
    method = gateway.create_test_payment_method(card_number=card_number)
    confirmed = gateway.confirm_setup_intent(
        setup_intent_id=setup.id, payment_method_id=method, idempotency_key=f"conf-{card_number}"
    )
    assert confirmed.status == "succeeded", confirmed
    return customer_id, method


def hold(card_number: str = OK_CARD, amount_cents: int = 5000, key: str = "pledge-1-hold-1"):
    customer_id, method = saved_card(card_number)
    return gateway.create_hold(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=amount_cents,
        currency="usd",
        idempotency_key=key,
        metadata={"pledge_id": 1, "payment_id": 11},
    )


# --- customers and card setup -----------------------------------------------------------------


def test_customer_and_setup_intent_confirmed_with_a_good_card(localstripe):
    customer_id = gateway.create_customer(
        email="a@slate.test", idempotency_key="user-1-customer", metadata={"user_id": 1}
    )
    assert customer_id.startswith("cus_")
    assert localstripe.get(f"/v1/customers/{customer_id}")["metadata"] == {"user_id": "1"}

    setup = gateway.create_setup_intent(
        customer_id=customer_id, idempotency_key="pledge-1-setup", metadata={"pledge_id": 1}
    )
    assert setup.id.startswith("seti_")
    assert setup.status == "requires_payment_method"
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    assert setup.payment_method_id is None
    assert setup.last_error_code is None
    stored = localstripe.get(f"/v1/setup_intents/{setup.id}")
    assert (stored["usage"], stored["payment_method_types"]) == ("off_session", ["card"])
    assert stored["customer"] == customer_id

    method = gateway.create_test_payment_method(card_number=OK_CARD)
    assert method.startswith("pm_")
    confirmed = gateway.confirm_setup_intent(
        setup_intent_id=setup.id, payment_method_id=method, idempotency_key="pledge-1-confirm"
    )
    assert confirmed.status == "succeeded"
    assert confirmed.succeeded
    assert confirmed.payment_method_id == method
    assert gateway.retrieve_setup_intent(setup.id) == confirmed


def test_declined_card_at_setup_is_returned_not_raised(localstripe):
    customer_id = gateway.create_customer(email="d@slate.test", idempotency_key="c", metadata={})
    setup = gateway.create_setup_intent(customer_id=customer_id, idempotency_key="s", metadata={})
    method = gateway.create_test_payment_method(card_number=DECLINED_AT_ATTACH)

    result = gateway.confirm_setup_intent(
        setup_intent_id=setup.id, payment_method_id=method, idempotency_key="k"
    )

    # localstripe: HTTP 402 card_declined (no setup_intent in the error); the intent is left
    # "canceled" with the declined method on it and no last_setup_error. (Stripe leaves it
    # requires_payment_method with last_setup_error.) The code comes from the error.
    assert result.status == "canceled"
    assert result.last_error_code == "card_declined"
    assert not result.succeeded
    assert result.payment_method_id == method
    retrieved = gateway.retrieve_setup_intent(setup.id)
    assert (retrieved.status, retrieved.last_error_code) == ("canceled", None)


def test_declined_card_is_refused_at_attach(localstripe):
    """Attaching it directly (Stripe.js does not, but the API allows it): HTTP 402."""
    customer_id = gateway.create_customer(email="d@slate.test", idempotency_key="c", metadata={})
    method = gateway.create_test_payment_method(card_number=DECLINED_AT_ATTACH)
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is None

    status, body = localstripe.post(f"/v1/payment_methods/{method}/attach", customer=customer_id)

    assert status == 402
    assert body["error"]["code"] == "card_declined"
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is None


@pytest.mark.parametrize("card_number", THREE_DS_CARDS)
def test_three_d_secure_card_at_setup_requires_action_then_completes(localstripe, card_number):
    customer_id = gateway.create_customer(email="s@slate.test", idempotency_key="c", metadata={})
    setup = gateway.create_setup_intent(customer_id=customer_id, idempotency_key="s", metadata={})
    method = gateway.create_test_payment_method(card_number=card_number)

    pending = gateway.confirm_setup_intent(
        setup_intent_id=setup.id, payment_method_id=method, idempotency_key="k1"
    )
    assert (pending.status, pending.payment_method_id) == ("requires_action", method)

    # What localstripe's Stripe.js does when the supporter completes 3-D Secure.
    done = gateway.confirm_setup_intent(
        setup_intent_id=setup.id, payment_method_id=None, idempotency_key="k2"
    )
    assert (done.status, done.payment_method_id) == ("succeeded", method)


def test_detach_payment_method(localstripe):
    _, method = saved_card()
    gateway.detach_payment_method(payment_method_id=method, idempotency_key="pledge-1-detach")
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is None


def test_a_test_card_attached_to_a_customer_can_be_held_off_session(localstripe):
    """What bench/release.py's shared card is: one customer's saved card, made without a
    SetupIntent, held many times."""
    customer_id = gateway.create_customer(
        email="bench@slate.test", idempotency_key="cus-bench", metadata={"user_id": 8}
    )
    method = gateway.create_test_payment_method(card_number=OK_CARD, customer_id=customer_id)
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] == customer_id
    held = gateway.create_hold(
        customer_id=customer_id, payment_method_id=method, amount_cents=1_000, currency="usd",
        idempotency_key="bench-hold", metadata={"bench": "raw"},
    )  # fmt: skip
    assert held.status == "requires_capture"


# --- holds, captures, cancels -----------------------------------------------------------------


def test_hold_on_a_good_card_requires_capture(localstripe):
    result = hold(amount_cents=5000)

    assert result.id.startswith("pi_")
    assert result.status == "requires_capture"
    assert result.amount_cents == 5000
    assert result.amount_capturable_cents == 5000
    assert result.amount_received_cents == 0
    assert result.currency == "usd"
    assert result.client_secret.startswith(f"{result.id}_secret_")
    assert (result.last_error_code, result.decline_code) == (None, None)
    assert result.metadata == {"pledge_id": "1", "payment_id": "11"}
    assert not result.needs_action
    stored = localstripe.get(f"/v1/payment_intents/{result.id}")
    assert stored["capture_method"] == "manual"
    assert localstripe.count_captures(result.id) == 0
    assert gateway.retrieve_payment_intent(result.id) == result


def test_partial_capture(localstripe):
    held = hold(amount_cents=5000)

    captured = gateway.capture(
        payment_intent_id=held.id, amount_to_capture_cents=3000, idempotency_key="p-1-capture"
    )

    assert captured.status == "succeeded"
    assert captured.amount_received_cents == 3000
    assert captured.amount_capturable_cents == 0
    assert gateway.retrieve_payment_intent(held.id) == captured
    assert localstripe.count_captures(held.id) == 1
    assert localstripe.count_captures_for(pledge_id=1) == 1
    assert localstripe.captured_cents_for(pledge_id=1) == 3000
    # localstripe books the released 2000 as a refund without payment_intent; it is not ours.
    assert gateway.list_refunds(held.id) == []


def test_full_capture_then_a_second_capture_is_refused(localstripe):
    held = hold(amount_cents=5000)
    captured = gateway.capture(
        payment_intent_id=held.id, amount_to_capture_cents=5000, idempotency_key="p-1-capture"
    )
    assert (captured.status, captured.amount_received_cents) == ("succeeded", 5000)

    with pytest.raises(GatewayError) as refused:
        gateway.capture(
            payment_intent_id=held.id, amount_to_capture_cents=5000, idempotency_key="p-1-cap-2"
        )
    # localstripe: 400 "Bad request", no code.
    assert (refused.value.http_status, refused.value.retryable) == (400, False)
    assert refused.value.code == "invalid_request_error"
    assert localstripe.count_captures(held.id) == 1


def test_capturing_more_than_the_hold_is_refused(localstripe):
    held = hold(amount_cents=5000)
    with pytest.raises(GatewayError) as refused:
        gateway.capture(
            payment_intent_id=held.id, amount_to_capture_cents=5001, idempotency_key="k"
        )
    assert (refused.value.http_status, refused.value.retryable) == (400, False)
    assert localstripe.count_captures(held.id) == 0


def test_cancel_a_hold(localstripe):
    held = hold()

    canceled = gateway.cancel(payment_intent_id=held.id, idempotency_key="p-1-cancel")

    assert canceled.status == "canceled"
    assert (canceled.amount_capturable_cents, canceled.amount_received_cents) == (0, 0)
    assert localstripe.count_captures(held.id) == 0
    with pytest.raises(GatewayError) as again:
        gateway.cancel(payment_intent_id=held.id, idempotency_key="p-1-cancel-2")
    assert (again.value.http_status, again.value.retryable) == (400, False)


def test_localstripe_captures_a_canceled_hold(localstripe):
    """A fake's gap, pinned so nobody relies on it: Stripe refuses to capture a canceled
    intent; localstripe takes the money. The services must not ask."""
    held = hold()
    gateway.cancel(payment_intent_id=held.id, idempotency_key="cancel")
    result = gateway.capture(
        payment_intent_id=held.id, amount_to_capture_cents=5000, idempotency_key="c"
    )
    assert result.status == "canceled"
    assert localstripe.count_captures(held.id) == 1


# --- off-session outcomes ---------------------------------------------------------------------


@pytest.mark.parametrize("create", [gateway.create_hold, gateway.charge_off_session])
@pytest.mark.parametrize("card_number", THREE_DS_CARDS)
def test_three_d_secure_card_off_session_requires_action(localstripe, card_number, create):
    # The card is saved without 3-D Secure here (localstripe would ask for it at setup too).
    customer_id = gateway.create_customer(email="s@slate.test", idempotency_key="c", metadata={})
    method = gateway.create_test_payment_method(card_number=card_number)

    result = create(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=2500,
        currency="usd",
        idempotency_key="pledge-2-create",
        metadata={"pledge_id": 2},
    )

    # localstripe: HTTP 200, status requires_action (next_action use_stripe_sdk), no error.
    # Stripe: HTTP 402 authentication_required with the intent in requires_payment_method;
    # the gateway returns both as a result with needs_action set.
    assert result.status == "requires_action"
    assert result.needs_action
    assert (result.last_error_code, result.decline_code) == (None, None)
    assert (result.amount_capturable_cents, result.amount_received_cents) == (0, 0)
    assert localstripe.count_captures(result.id) == 0

    # The supporter completes authentication from the emailed link (Stripe.js).
    after = localstripe.authenticate_payment_intent(result.id)
    expected = "requires_capture" if create is gateway.create_hold else "succeeded"
    assert after["status"] == expected
    assert gateway.retrieve_payment_intent(result.id).status == expected


@pytest.mark.parametrize("create", [gateway.create_hold, gateway.charge_off_session])
def test_card_declined_off_session_is_returned_not_raised(localstripe, create):
    customer_id, method = saved_card(DECLINED_AT_CHARGE)

    result = create(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=2500,
        currency="usd",
        idempotency_key="pledge-3-create",
        metadata={"pledge_id": 3},
    )

    # localstripe: HTTP 402 {"code": "card_declined", "charge": "ch_..."} (no payment_intent
    # in the error; the gateway finds it through the charge). No decline_code.
    assert result.id.startswith("pi_")
    assert result.status == "requires_payment_method"
    assert result.needs_action
    assert result.last_error_code == "card_declined"
    assert result.last_error_message == "Your card was declined."
    assert result.decline_code is None
    assert result.metadata == {"pledge_id": "3"}
    assert localstripe.count_captures(result.id) == 0
    assert gateway.retrieve_payment_intent(result.id).status == "requires_payment_method"
    # A declined intent can still be canceled (the void path).
    assert gateway.cancel(payment_intent_id=result.id, idempotency_key="x").status == "canceled"


def test_localstripe_holds_a_card_it_declines_at_attach(localstripe):
    """localstripe declines 4000000000000002 only when it is saved; a hold on it (never
    possible in our flow, which saves cards through a SetupIntent first) succeeds."""
    customer_id = gateway.create_customer(email="d@slate.test", idempotency_key="c", metadata={})
    method = gateway.create_test_payment_method(card_number=DECLINED_AT_ATTACH)
    result = gateway.create_hold(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=100,
        currency="usd",
        idempotency_key="k",
        metadata={},
    )
    assert result.status == "requires_capture"


def test_charge_off_session_succeeds(localstripe):
    customer_id, method = saved_card()

    result = gateway.charge_off_session(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=4200,
        currency="usd",
        idempotency_key="pledge-4-charge",
        metadata={"pledge_id": 4},
    )

    assert result.status == "succeeded"
    assert (result.amount_received_cents, result.amount_capturable_cents) == (4200, 0)
    assert localstripe.get(f"/v1/payment_intents/{result.id}")["capture_method"] == "automatic"
    assert localstripe.count_captures(result.id) == 1
    assert localstripe.count_captures_for(pledge_id=4) == 1
    assert localstripe.captured_cents_for(pledge_id=4) == 4200


def test_localstripe_ignores_idempotency_keys(localstripe):
    """Pinned so nobody writes a test that relies on it: the same key twice makes two
    customers on localstripe (Stripe would return the first)."""
    first = gateway.create_customer(email="x@slate.test", idempotency_key="same", metadata={})
    second = gateway.create_customer(email="x@slate.test", idempotency_key="same", metadata={})
    assert first != second


# --- refunds ----------------------------------------------------------------------------------


def _charged(amount_cents: int = 5000):
    customer_id, method = saved_card()
    return gateway.charge_off_session(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=amount_cents,
        currency="usd",
        idempotency_key="pledge-5-charge",
        metadata={"pledge_id": 5},
    )


def test_full_refund(localstripe):
    charged = _charged(5000)

    refunded = gateway.refund(
        payment_intent_id=charged.id,
        amount_cents=5000,
        idempotency_key="refund-1",
        metadata={"refund_id": 1},
    )

    assert refunded.id.startswith("re_")
    assert (refunded.status, refunded.amount_cents) == ("succeeded", 5000)
    assert refunded.metadata == {"refund_id": "1"}
    assert gateway.list_refunds(charged.id) == [refunded]
    assert localstripe.count_captures(charged.id) == 1  # a refund is not a capture
    assert localstripe.get(f"/v1/charges/{localstripe.charges_of(charged.id)[0]['id']}")["refunded"]


def test_partial_refunds_after_a_partial_capture(localstripe):
    held = hold(amount_cents=5000)
    gateway.capture(payment_intent_id=held.id, amount_to_capture_cents=4000, idempotency_key="c")

    first = gateway.refund(
        payment_intent_id=held.id, amount_cents=1500, idempotency_key="r1", metadata={"n": 1}
    )
    time.sleep(1.1)  # localstripe orders refunds by their creation second
    second = gateway.refund(
        payment_intent_id=held.id, amount_cents=500, idempotency_key="r2", metadata={"n": 2}
    )

    assert [r.amount_cents for r in (first, second)] == [1500, 500]
    assert gateway.list_refunds(held.id) == [second, first]
    # Captured money is what was captured, whatever was refunded since.
    assert localstripe.captured_cents_for(pledge_id=1) == 4000
    assert localstripe.count_captures(held.id) == 1


def test_localstripe_refunds_more_than_was_paid(localstripe):
    """Another fake's gap: Stripe refuses a refund above what is left; localstripe accepts."""
    charged = _charged(1000)
    result = gateway.refund(
        payment_intent_id=charged.id, amount_cents=5000, idempotency_key="r", metadata={}
    )
    assert result.status == "succeeded"


# --- errors -----------------------------------------------------------------------------------


def test_invalid_request_is_a_non_retryable_gateway_error(localstripe):
    with pytest.raises(GatewayError) as refused:
        gateway.capture(
            payment_intent_id="pi_doesnotexist", amount_to_capture_cents=100, idempotency_key="k"
        )
    assert refused.value.retryable is False
    assert refused.value.http_status == 404
    assert refused.value.code == "invalid_request_error"
    assert "Not Found" in refused.value.message


def test_localstripe_500_on_capturing_an_intent_waiting_for_authentication(localstripe):
    """localstripe crashes (HTTP 500) where Stripe answers 400: the gateway calls any 5xx
    retryable, so a caller retrying this would retry in vain against localstripe."""
    customer_id = gateway.create_customer(email="s@slate.test", idempotency_key="c", metadata={})
    method = gateway.create_test_payment_method(card_number=THREE_DS_CARDS[0])
    pending = gateway.create_hold(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=100,
        currency="usd",
        idempotency_key="k",
        metadata={},
    )
    with pytest.raises(GatewayError) as crashed:
        gateway.capture(
            payment_intent_id=pending.id, amount_to_capture_cents=100, idempotency_key="x"
        )
    assert (crashed.value.http_status, crashed.value.retryable) == (500, True)


def test_connection_refused_is_retryable(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_slate"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    # A port this test holds bound but not listening: connections to it are refused, and no
    # other process (a parallel test worker's server) can take it meanwhile.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{held.getsockname()[1]}"
        with pytest.raises(GatewayError) as unreachable:
            gateway.retrieve_payment_intent("pi_x")
    assert unreachable.value.retryable is True
    assert unreachable.value.code == "api_connection_error"
    assert unreachable.value.http_status is None


def test_missing_secret_key_is_refused_before_any_call(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(GatewayError) as refused:
        gateway.retrieve_payment_intent("pi_x")
    assert (refused.value.code, refused.value.retryable) == ("not_configured", False)


def test_raw_card_numbers_are_refused_with_a_live_key(settings):
    settings.STRIPE_SECRET_KEY = "sk_live_nope"
    with pytest.raises(GatewayError) as refused:
        gateway.create_test_payment_method(card_number=OK_CARD)
    assert refused.value.code == "test_only"


class StubStripe:
    """An HTTP server answering every request with one canned response."""

    def __init__(self) -> None:
        self.status = 200
        self.body: dict = {}
        self.headers: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[dict[str, list[str]]] = []  # each request's form body, parsed
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                stub.bodies.append(urllib.parse.parse_qs(body, keep_blank_values=True))
                stub.requests.append((self.command, self.path, dict(self.headers)))
                payload = json.dumps(stub.body).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in stub.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_stripe(settings) -> Iterator[StubStripe]:
    stub = StubStripe()
    settings.STRIPE_SECRET_KEY = "sk_test_slate"
    settings.STRIPE_API_BASE = stub.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield stub
    stub.close()


@pytest.mark.parametrize(
    ("status", "error", "headers", "code", "retryable"),
    [
        (429, {"type": "invalid_request_error", "message": "Too many"}, {}, "rate_limit", True),
        (500, {"type": "api_error", "message": "Oops"}, {}, "api_error", True),
        (503, {"type": "api_error", "message": "Busy"}, {}, "api_error", True),
        (
            400,
            {"type": "invalid_request_error", "code": "parameter_missing", "message": "x"},
            {},
            "parameter_missing",
            False,
        ),
        (
            401,
            {"type": "invalid_request_error", "message": "bad key"},
            {},
            "authentication_error",
            False,
        ),
        (
            409,
            {"type": "idempotency_error", "code": "lock_timeout", "message": "busy"},
            {"Stripe-Should-Retry": "true"},
            "lock_timeout",
            True,
        ),
    ],
)
def test_error_classification(stub_stripe, status, error, headers, code, retryable):
    stub_stripe.status, stub_stripe.body, stub_stripe.headers = status, {"error": error}, headers
    with pytest.raises(GatewayError) as failed:
        gateway.cancel(payment_intent_id="pi_x", idempotency_key="pledge-9-cancel")
    assert (failed.value.code, failed.value.retryable, failed.value.http_status) == (
        code,
        retryable,
        status,
    )


def test_idempotency_key_is_sent(stub_stripe):
    stub_stripe.status = 500
    with pytest.raises(GatewayError):
        gateway.cancel(payment_intent_id="pi_x", idempotency_key="pledge-9-cancel-1")
    method, path, headers = stub_stripe.requests[-1]
    assert (method, path) == ("POST", "/v1/payment_intents/pi_x/cancel")
    assert headers["Idempotency-Key"] == "pledge-9-cancel-1"
    assert headers["Authorization"] == "Bearer sk_test_slate"


def test_card_error_naming_no_intent_is_a_gateway_error(stub_stripe):
    stub_stripe.status = 402
    stub_stripe.body = {"error": {"type": "card_error", "code": "card_declined", "message": "No"}}
    with pytest.raises(GatewayError) as failed:
        gateway.create_hold(
            customer_id="cus_x",
            payment_method_id="pm_x",
            amount_cents=100,
            currency="usd",
            idempotency_key="k",
            metadata={},
        )
    assert (failed.value.code, failed.value.retryable) == ("card_declined", False)


def test_card_error_with_the_intent_is_returned(stub_stripe):
    """Stripe's own shape for an off-session card that needs authentication."""
    stub_stripe.status = 402
    stub_stripe.body = {
        "error": {
            "type": "card_error",
            "code": "authentication_required",
            "decline_code": "authentication_required",
            "message": "This payment requires authentication.",
            "payment_intent": {
                "id": "pi_stub",
                "object": "payment_intent",
                "status": "requires_payment_method",
                "amount": 2500,
                "amount_capturable": 0,
                "amount_received": 0,
                "currency": "usd",
                "client_secret": "pi_stub_secret_x",
                "metadata": {"pledge_id": "2"},
                "last_payment_error": {
                    "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "message": "This payment requires authentication.",
                },
            },
        }
    }
    result = gateway.charge_off_session(
        customer_id="cus_x",
        payment_method_id="pm_x",
        amount_cents=2500,
        currency="usd",
        idempotency_key="k",
        metadata={"pledge_id": 2},
    )
    assert result == gateway.PaymentIntentResult(
        id="pi_stub",
        status="requires_payment_method",
        amount_cents=2500,
        amount_capturable_cents=0,
        amount_received_cents=0,
        currency="usd",
        client_secret="pi_stub_secret_x",
        last_error_code="authentication_required",
        last_error_message="This payment requires authentication.",
        decline_code="authentication_required",
        metadata={"pledge_id": "2"},
    )
    assert result.needs_action


# --- webhooks ---------------------------------------------------------------------------------


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: queue.Queue[tuple[bytes, str | None]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.put((body, self.headers.get("Stripe-Signature")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 15) -> tuple[bytes, str]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event_type} for {object_id} within {timeout}s")
            try:
                body, signature = self.received.get(timeout=remaining)
            except queue.Empty:
                continue
            event = json.loads(body)
            if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                return body, signature

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def test_webhook_signature_from_localstripe(localstripe, webhook_receiver, settings):
    localstripe.register_webhook(webhook_receiver.url)
    charged = _charged(1234)

    payload, signature = webhook_receiver.wait_for("payment_intent.succeeded", charged.id)

    assert signature.startswith("t=")
    event = webhooks.construct_webhook_event(payload=payload, signature_header=signature)
    assert isinstance(event, dict)
    assert event["type"] == "payment_intent.succeeded"
    assert event["id"].startswith("evt_")
    assert event["data"]["object"]["id"] == charged.id
    assert event["data"]["object"]["amount"] == 1234

    tampered = payload.replace(b'"amount": 1234', b'"amount": 9999')
    assert tampered != payload
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=tampered, signature_header=signature)
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=payload, signature_header="")
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=payload, signature_header="t=1,v1=deadbeef")
    settings.STRIPE_WEBHOOK_SECRET = "whsec_other"
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=payload, signature_header=signature)
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=payload, signature_header=signature)


def test_webhook_with_a_good_signature_over_a_bad_payload_is_refused(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_slate"
    now = int(time.time())
    for payload in (b"not json", b"[1, 2]", b"\xff\xfe"):
        digest = hmac.new(
            b"whsec_test_slate", str(now).encode() + b"." + payload, hashlib.sha256
        ).hexdigest()
        with pytest.raises(WebhookSignatureError):
            webhooks.construct_webhook_event(
                payload=payload, signature_header=f"t={now},v1={digest}"
            )


def test_old_webhook_is_refused(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_slate"
    then = int(time.time()) - 3600
    payload = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    digest = hmac.new(
        b"whsec_test_slate", str(then).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    with pytest.raises(WebhookSignatureError):
        webhooks.construct_webhook_event(payload=payload, signature_header=f"t={then},v1={digest}")


# --- payouts ----------------------------------------------------------------------------------


def test_recording_payouts_are_deterministic():
    payouts = stripe_payouts.RecordingPayouts()
    args = {
        "destination_account_id": "acct_candidate1",
        "amount_cents": 12345,
        "currency": "usd",
        "metadata": {"allocation_id": 3},
    }

    first = payouts.transfer(idempotency_key="allocation-3-transfer", **args)
    again = payouts.transfer(idempotency_key="allocation-3-transfer", **args)
    other = payouts.transfer(idempotency_key="allocation-4-transfer", **args)

    assert first == again
    assert first.id == "tr_rec_" + hashlib.sha256(b"allocation-3-transfer").hexdigest()[:16]
    assert first.status == "recorded"
    assert other.id != first.id
    assert stripe_payouts.RecordingPayouts().transfer(
        idempotency_key="allocation-3-transfer", **args
    ) == (first)
    assert [t.id for t in payouts.transfers] == [first.id, other.id]
    assert payouts.transfers[0].metadata == {"allocation_id": "3"}
    with pytest.raises(GatewayError) as reused:
        payouts.transfer(idempotency_key="allocation-3-transfer", **{**args, "amount_cents": 1})
    assert (reused.value.code, reused.value.retryable) == ("idempotency_error", False)
    payouts.clear()
    assert payouts.transfers == []


def test_payout_gateway_follows_the_setting(settings):
    del settings.SLATE_PAYOUT_GATEWAY  # absent: the default
    assert isinstance(stripe_payouts.payout_gateway(), stripe_payouts.RecordingPayouts)
    assert stripe_payouts.payout_gateway() is stripe_payouts.payout_gateway()
    settings.SLATE_PAYOUT_GATEWAY = "stripe_connect"
    assert isinstance(stripe_payouts.payout_gateway(), stripe_payouts.StripeConnectPayouts)
    settings.SLATE_PAYOUT_GATEWAY = "carrier_pigeon"
    with pytest.raises(ValueError, match="carrier_pigeon"):
        stripe_payouts.payout_gateway()


def test_stripe_connect_transfer_is_not_served_by_localstripe(localstripe):
    with pytest.raises(GatewayError) as missing:
        stripe_payouts.StripeConnectPayouts().transfer(
            destination_account_id="acct_candidate1",
            amount_cents=100,
            currency="usd",
            idempotency_key="allocation-1-transfer",
            metadata={},
        )
    assert (missing.value.http_status, missing.value.retryable) == (404, False)


def test_stripe_connect_transfer_request(stub_stripe):
    stub_stripe.body = {"id": "tr_1", "object": "transfer", "reversed": False, "amount": 100}
    result = stripe_payouts.StripeConnectPayouts().transfer(
        destination_account_id="acct_candidate1",
        amount_cents=100,
        currency="usd",
        idempotency_key="allocation-1-transfer",
        metadata={"allocation_id": 1},
    )
    assert result == gateway.TransferResult(id="tr_1", status="paid")
    method, path, headers = stub_stripe.requests[-1]
    assert (method, path, headers["Idempotency-Key"]) == (
        "POST",
        "/v1/transfers",
        "allocation-1-transfer",
    )
    # What goes on the wire: the amount in cents, the currency, the candidate's account and
    # our allocation id, and nothing else.
    assert stub_stripe.bodies[-1] == {
        "amount": ["100"],
        "currency": ["usd"],
        "destination": ["acct_candidate1"],
        "metadata[allocation_id]": ["1"],
    }
