"""The one module that talks to Stripe.

Every function builds its client from the settings of the moment (``STRIPE_SECRET_KEY`` and,
when set, ``STRIPE_API_BASE``, which points the client at localstripe), calls Stripe with the
caller's idempotency key, and returns plain dataclasses: no Stripe object leaves this module.

Errors:

* A card that is declined or needs authentication is an *answer*, not an error, for
  ``create_hold``, ``charge_off_session``, ``capture`` and ``confirm_setup_intent``: they
  return the intent (status ``requires_payment_method`` / ``requires_action`` / ``canceled``,
  with ``last_error_code`` and ``decline_code`` filled) so the caller can move the pledge to
  ``needs_action``.
* Anything else Stripe refuses raises :class:`GatewayError`, whose ``retryable`` says whether
  the same call with the same idempotency key may succeed later (network errors, rate limits,
  5xx) or not (invalid requests, authentication, ...).

Client: one ``stripe.StripeClient(api_key, base_addresses={"api": base})`` per
(key, base, retries), cached; the module-level ``stripe.api_key``/``stripe.api_base`` globals
are never touched, so nothing leaks between settings in tests.

localstripe (the fake used by the tests and ``make run``) differs from Stripe in ways this
module smooths over, each marked "localstripe:" below: a PaymentIntent has no
``amount_capturable``/``amount_received`` fields, a declined charge's error names the charge
but not the PaymentIntent, and a partial capture is recorded as a full capture plus a refund of
the remainder (a refund without ``payment_intent``). It also predates the parameter names of
the API version the SDK pins; ``escrow.devstripe`` teaches it those, so the requests here are
the ones Stripe takes (tests/stripe_params.py checks each against the SDK's parameter classes).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
from django.conf import settings

__all__ = [
    "ChargeResult",
    "GatewayError",
    "PaymentIntentResult",
    "PayoutGateway",
    "RecordingPayouts",
    "RefundResult",
    "SetupIntentResult",
    "StripeConnectPayouts",
    "StripeEventFacts",
    "TransferResult",
    "WebhookSignatureError",
    "cancel",
    "capture",
    "charge_off_session",
    "confirm_setup_intent",
    "construct_webhook_event",
    "create_customer",
    "create_hold",
    "create_setup_intent",
    "create_test_payment_method",
    "detach_payment_method",
    "dispute_facts",
    "event_facts",
    "find_payment_intent",
    "list_charges",
    "list_refunds",
    "payout_gateway",
    "refund",
    "refund_charge",
    "retrieve_charge_fee",
    "retrieve_payment_intent",
    "retrieve_setup_intent",
]

# PaymentIntent statuses after which the supporter must act (authenticate or give another card).
NEEDS_ACTION_STATUSES = frozenset({"requires_action", "requires_payment_method"})


# --- results and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class SetupIntentResult:
    id: str
    status: str
    client_secret: str
    payment_method_id: str | None
    last_error_code: str | None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class PaymentIntentResult:
    id: str
    status: str
    amount_cents: int
    amount_capturable_cents: int
    amount_received_cents: int
    currency: str
    client_secret: str | None
    last_error_code: str | None
    last_error_message: str | None
    decline_code: str | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def needs_action(self) -> bool:
        """Declined or waiting for authentication: the supporter has to do something."""
        return self.status in NEEDS_ACTION_STATUSES


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount_cents: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeResult:
    """A charge as reconciliation reads it: whose intent it belongs to and what it took."""

    id: str
    payment_intent_id: str | None
    customer_id: str | None
    amount_cents: int
    amount_refunded_cents: int
    captured: bool
    status: str
    currency: str
    created: int
    metadata: dict[str, str] = field(default_factory=dict)
    # What a captured charge took: on Stripe ``amount_captured`` (less than ``amount`` after a
    # partial capture, the rest released, not refunded); None where the charge does not say.
    amount_captured_cents: int | None = None

    @property
    def outstanding_cents(self) -> int:
        """Money the charge still takes (captured) or holds (not captured), less refunds.

        localstripe: no ``amount_captured``; a partial capture takes ``amount`` and refunds
        the remainder, so ``amount`` less refunds is right there."""
        if self.captured and self.amount_captured_cents is not None:
            taken = self.amount_captured_cents
        else:
            taken = self.amount_cents
        return max(taken - self.amount_refunded_cents, 0)


@dataclass(frozen=True)
class TransferResult:
    id: str
    status: str


@dataclass(frozen=True)
class StripeEventFacts:
    """What the webhook handlers need from an Event: its object's kind and id, and the
    PaymentIntent that object is about (itself, or the one its charge, refund or dispute
    names; None for objects that name none, such as a charge not made through an intent)."""

    id: str
    type: str
    object_type: str
    object_id: str | None
    payment_intent_id: str | None


class GatewayError(Exception):
    """Stripe refused or could not be reached. ``retryable``: the same call, with the same
    idempotency key, may succeed later."""

    def __init__(
        self, code: str, message: str, retryable: bool, http_status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.http_status = http_status


class WebhookSignatureError(Exception):
    """A webhook whose signature, timestamp or payload does not check out."""


# --- client -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _client_for(api_key: str, api_base: str, max_network_retries: int) -> stripe.StripeClient:
    base_addresses: dict[str, str] = {"api": api_base} if api_base else {}
    if api_base:
        # Connect calls go to the same place as the rest (localstripe serves everything).
        base_addresses["connect"] = api_base
    return stripe.StripeClient(
        api_key, base_addresses=base_addresses, max_network_retries=max_network_retries
    )


def _client() -> stripe.StripeClient:
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise GatewayError("not_configured", "STRIPE_SECRET_KEY is not set", retryable=False)
    return _client_for(
        api_key,
        getattr(settings, "STRIPE_API_BASE", "") or "",
        # The client's own retries send the same Idempotency-Key, so they cannot double a
        # charge on Stripe (localstripe ignores the key; see tests/escrow/conftest.py).
        int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2)),
    )


def _options(idempotency_key: str) -> dict[str, Any]:
    if not idempotency_key:
        raise ValueError("every mutating Stripe call needs an idempotency key")
    return {"idempotency_key": idempotency_key}


def _metadata(metadata: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status
    headers = exc.headers or {}
    should_retry = str(headers.get("Stripe-Should-Retry", headers.get("stripe-should-retry", "")))
    if isinstance(exc, stripe.APIConnectionError):
        retryable = True
    elif should_retry in ("true", "false"):
        retryable = should_retry == "true"
    elif status is None:
        # An APIError without a status is a response Stripe could not finish.
        retryable = isinstance(exc, stripe.APIError)
    else:
        # 409: another request with the same idempotency key is still in flight (Stripe saves
        # no result for it, so the same request may be sent again). The SDK retries it too.
        retryable = status in (409, 429) or status >= 500
    body = exc.json_body if isinstance(exc.json_body, Mapping) else {}
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    code = exc.code or error.get("code") or _ERROR_CODES.get(type(exc), "stripe_error")
    return GatewayError(code, exc.user_message or str(exc), retryable, status)


_ERROR_CODES: dict[type, str] = {
    stripe.APIConnectionError: "api_connection_error",
    stripe.RateLimitError: "rate_limit",
    stripe.AuthenticationError: "authentication_error",
    stripe.PermissionError: "permission_error",
    stripe.IdempotencyError: "idempotency_error",
    stripe.InvalidRequestError: "invalid_request_error",
    stripe.CardError: "card_error",
    stripe.APIError: "api_error",
}


# --- conversions ------------------------------------------------------------------------------


def _setup_intent_result(
    data: Mapping[str, Any], error_code: str | None = None
) -> SetupIntentResult:
    last_error = data.get("last_setup_error") or {}
    payment_method = data.get("payment_method")
    if isinstance(payment_method, Mapping):
        payment_method = payment_method.get("id")
    return SetupIntentResult(
        id=data["id"],
        status=data["status"],
        client_secret=data.get("client_secret") or "",
        payment_method_id=payment_method or None,
        last_error_code=last_error.get("code") or error_code,
    )


def _charge_amounts(data: Mapping[str, Any]) -> tuple[int, int]:
    """(amount_capturable, amount_received) where the PaymentIntent does not carry them.

    localstripe: no such fields on its PaymentIntent; its latest charge is embedded, and a
    partial capture leaves a refund of the uncaptured remainder on the charge, the only refunds
    without a ``payment_intent``.
    """
    charge = data.get("latest_charge")
    if not isinstance(charge, Mapping):
        return 0, 0
    status = data.get("status")
    if status == "requires_capture":
        return int(charge.get("amount") or 0), 0
    if status != "succeeded":
        return 0, 0
    if charge.get("amount_captured") is not None:
        return 0, int(charge["amount_captured"])
    refunds = (charge.get("refunds") or {}).get("data") or []
    released = sum(int(r.get("amount") or 0) for r in refunds if not r.get("payment_intent"))
    return 0, int(charge.get("amount") or 0) - released


def _payment_intent_result(
    data: Mapping[str, Any], error: Mapping[str, Any] | None = None
) -> PaymentIntentResult:
    error = error or {}
    last_error = data.get("last_payment_error") or {}
    if data.get("amount_received") is not None:
        capturable = int(data.get("amount_capturable") or 0)
        received = int(data["amount_received"])
    else:
        capturable, received = _charge_amounts(data)
    return PaymentIntentResult(
        id=data["id"],
        status=data["status"],
        amount_cents=int(data["amount"]),
        amount_capturable_cents=capturable,
        amount_received_cents=received,
        currency=data["currency"],
        client_secret=data.get("client_secret"),
        last_error_code=last_error.get("code") or error.get("code"),
        last_error_message=last_error.get("message") or error.get("message"),
        decline_code=last_error.get("decline_code") or error.get("decline_code"),
        metadata=dict(data.get("metadata") or {}),
    )


def _refund_result(data: Mapping[str, Any]) -> RefundResult:
    return RefundResult(
        id=data["id"],
        status=data["status"],
        amount_cents=int(data["amount"]),
        metadata=dict(data.get("metadata") or {}),
    )


def _id_of(value: Any) -> str | None:
    """An expandable field's id: Stripe sends the id string unless the field was expanded,
    then the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value else None


def _balance_transaction_fee(data: Mapping[str, Any]) -> int:
    return int(data.get("fee") or 0)


def _charge_fee(charge: Any) -> int | None:
    """The fee on a charge whose ``balance_transaction`` was expanded; None while the charge
    has none (or it was not expanded: the id alone says nothing about the fee)."""
    balance_transaction = charge.get("balance_transaction") if isinstance(charge, Mapping) else None
    if not isinstance(balance_transaction, Mapping):
        return None
    return _balance_transaction_fee(balance_transaction)


def _transfer_result(data: Mapping[str, Any]) -> TransferResult:
    # A Stripe Transfer has no status: it is paid to the balance when created.
    return TransferResult(id=data["id"], status="reversed" if data.get("reversed") else "paid")


def dispute_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """What we book and tell staff about a Stripe Dispute (JSON-serializable, so the alert task
    can take it as it is). ``payment_intent_id`` is None for a dispute on a charge made without
    a PaymentIntent (Stripe's own example dispute has ``"payment_intent": null``): not ours."""
    evidence = data.get("evidence_details") or {}
    due_by = evidence.get("due_by")
    return {
        "id": str(data.get("id") or ""),
        "payment_intent_id": _id_of(data.get("payment_intent")),
        "charge_id": _id_of(data.get("charge")),
        "status": str(data.get("status") or "needs_response"),
        "amount_cents": int(data.get("amount") or 0),
        "reason": str(data.get("reason") or "unknown"),
        "due_by": int(due_by) if due_by else None,
    }


def _object_type_of_event(event_type: str) -> str:
    """The object an event type is about, for an object that does not say (Stripe's always
    do): ``charge.dispute.created`` is about a dispute, ``payment_intent.succeeded`` an intent."""
    for prefix, object_type in (("charge.dispute.", "dispute"), ("charge.refund.", "refund")):
        if event_type.startswith(prefix):
            return object_type
    return event_type.split(".", 1)[0]


def event_facts(event: Mapping[str, Any]) -> StripeEventFacts:
    """An Event (as stored: the verified payload) read once."""
    obj = (event.get("data") or {}).get("object") or {}
    object_type = str(obj.get("object") or _object_type_of_event(str(event.get("type") or "")))
    object_id = _id_of(obj.get("id"))
    if object_type == "payment_intent":
        payment_intent_id = object_id
    elif object_type in ("charge", "refund", "dispute"):
        payment_intent_id = _id_of(obj.get("payment_intent"))
    else:
        payment_intent_id = None
    return StripeEventFacts(
        id=str(event.get("id") or ""),
        type=str(event.get("type") or ""),
        object_type=object_type,
        object_id=object_id,
        payment_intent_id=payment_intent_id,
    )


def _intent_from_card_error(exc: stripe.CardError) -> PaymentIntentResult:
    """The PaymentIntent a card error is about, as a result; GatewayError when there is none."""
    body = (exc.json_body or {}).get("error") or {}
    intent = _as_dict(getattr(exc.error, "payment_intent", None)) if exc.error else {}
    if not intent.get("id"):
        # localstripe: the error names the failed charge only; the charge names its intent.
        charge_id = body.get("charge")
        if charge_id:
            try:
                client = _client()
                charge = _as_dict(client.v1.charges.retrieve(charge_id))
                if charge.get("payment_intent"):
                    intent = _as_dict(client.v1.payment_intents.retrieve(charge["payment_intent"]))
            except stripe.StripeError as lookup_exc:
                raise _gateway_error(lookup_exc) from exc
    if not intent.get("id"):
        raise GatewayError(
            exc.code or "card_error", exc.user_message or str(exc), False, exc.http_status
        ) from exc
    return _payment_intent_result(intent, body)


# --- customers and saved cards ----------------------------------------------------------------


def create_customer(*, email: str, idempotency_key: str, metadata: Mapping[str, object]) -> str:
    try:
        customer = _client().v1.customers.create(
            params={"email": email, "metadata": _metadata(metadata)},
            options=_options(idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return customer.id


def create_setup_intent(
    *, customer_id: str, idempotency_key: str, metadata: Mapping[str, object]
) -> SetupIntentResult:
    try:
        intent = _client().v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "allowed_payment_method_types": ["card"],
                "metadata": _metadata(metadata),
            },
            options=_options(idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _setup_intent_result(_as_dict(intent))


def retrieve_setup_intent(setup_intent_id: str) -> SetupIntentResult:
    try:
        intent = _client().v1.setup_intents.retrieve(setup_intent_id)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _setup_intent_result(_as_dict(intent))


def confirm_setup_intent(
    *, setup_intent_id: str, payment_method_id: str | None, idempotency_key: str
) -> SetupIntentResult:
    """What Stripe.js does in the browser; the server normally only retrieves the result.

    A declined card is returned, not raised (``last_error_code`` set). With
    ``payment_method_id=None`` it confirms the method already on the intent, which in
    localstripe completes a pending 3-D Secure step, as its fake Stripe.js does.
    """
    params = {"payment_method": payment_method_id} if payment_method_id else {}
    client = _client()
    try:
        intent = client.v1.setup_intents.confirm(
            setup_intent_id, params=params, options=_options(idempotency_key)
        )
    except stripe.CardError as exc:
        data = _as_dict(getattr(exc.error, "setup_intent", None)) if exc.error else {}
        if not data.get("id"):
            try:
                data = _as_dict(client.v1.setup_intents.retrieve(setup_intent_id))
            except stripe.StripeError as lookup_exc:
                raise _gateway_error(lookup_exc) from exc
        return _setup_intent_result(data, error_code=exc.code or "card_error")
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _setup_intent_result(_as_dict(intent))


def create_test_payment_method(*, card_number: str) -> str:
    """A card PaymentMethod from a raw test number: tests and development only."""
    if settings.STRIPE_SECRET_KEY.startswith(("sk_live", "rk_live")):
        raise GatewayError("test_only", "raw card numbers are for test mode only", False)
    try:
        method = _client().v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return method.id


def detach_payment_method(*, payment_method_id: str, idempotency_key: str) -> None:
    """Forget a saved card (supporter's request, or after a void)."""
    try:
        _client().v1.payment_methods.detach(payment_method_id, options=_options(idempotency_key))
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc


# --- payments ---------------------------------------------------------------------------------


def _create_payment_intent(
    *,
    capture_method: str,
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> PaymentIntentResult:
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    try:
        intent = _client().v1.payment_intents.create(
            params={
                "amount": amount_cents,
                "currency": currency,
                "customer": customer_id,
                "payment_method": payment_method_id,
                # Only cards: no redirect-based method, so no return_url for an off-session
                # confirm. (The SDK's API version refuses the older ``payment_method_types``.)
                "allowed_payment_method_types": ["card"],
                "capture_method": capture_method,
                "confirm": True,
                "off_session": True,
                "metadata": _metadata(metadata),
            },
            options=_options(idempotency_key),
        )
    except stripe.CardError as exc:
        return _intent_from_card_error(exc)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _payment_intent_result(_as_dict(intent))


def create_hold(
    *,
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> PaymentIntentResult:
    """An authorization hold: ``requires_capture`` when the bank agreed."""
    return _create_payment_intent(
        capture_method="manual",
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=idempotency_key,
        metadata=metadata,
    )


def charge_off_session(
    *,
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> PaymentIntentResult:
    """A charge captured at once, where no hold exists: ``succeeded`` when paid."""
    return _create_payment_intent(
        capture_method="automatic",
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=idempotency_key,
        metadata=metadata,
    )


def capture(
    *, payment_intent_id: str, amount_to_capture_cents: int, idempotency_key: str
) -> PaymentIntentResult:
    """Capture a hold, all or part of it (the rest is released)."""
    try:
        intent = _client().v1.payment_intents.capture(
            payment_intent_id,
            params={"amount_to_capture": amount_to_capture_cents},
            options=_options(idempotency_key),
        )
    except stripe.CardError as exc:
        return _intent_from_card_error(exc)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _payment_intent_result(_as_dict(intent))


def cancel(*, payment_intent_id: str, idempotency_key: str) -> PaymentIntentResult:
    """Void a hold (or an intent still waiting for the supporter)."""
    try:
        intent = _client().v1.payment_intents.cancel(
            payment_intent_id, options=_options(idempotency_key)
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _payment_intent_result(_as_dict(intent))


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntentResult:
    try:
        intent = _client().v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _payment_intent_result(_as_dict(intent))


def _unsupported_filter(exc: stripe.StripeError) -> bool:
    """localstripe: its PaymentIntent list takes no filter and answers 400 "Unexpected
    customer"; real Stripe filters by customer and creation time."""
    return isinstance(exc, stripe.InvalidRequestError) and "Unexpected" in str(exc)


def _customer_payment_intents(customer_id: str, created_after: int | None) -> list[dict]:
    client = _client()
    params: dict[str, Any] = {"customer": customer_id, "limit": 100}
    if created_after is not None:
        params["created"] = {"gte": created_after}
    try:
        page = client.v1.payment_intents.list(params=params)
        return [_as_dict(i) for i in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        if not _unsupported_filter(exc):
            raise _gateway_error(exc) from exc
    try:  # localstripe lists every intent it has; keep the customer's
        page = client.v1.payment_intents.list(params={"limit": 100})
        every = [_as_dict(i) for i in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return [i for i in every if i.get("customer") == customer_id]


def find_payment_intent(
    *, customer_id: str, metadata: Mapping[str, object], created_after: int | None = None
) -> PaymentIntentResult | None:
    """The customer's PaymentIntent whose metadata carries every pair of ``metadata``, or
    None. How a create whose answer was lost (a killed worker, a timeout) is found before it
    is sent again: Stripe keeps an idempotency key for 24 hours only, so the key alone cannot
    stop a second charge after a longer outage. ``created_after`` (a Unix time) narrows the
    walk to intents created since then. The list, unlike the search API, shows an intent as
    soon as it exists."""
    wanted = _metadata(metadata)
    for data in _customer_payment_intents(customer_id, created_after):
        found = data.get("metadata") or {}
        if all(found.get(k) == v for k, v in wanted.items()):
            return _payment_intent_result(data)
    return None


def _charge_result(data: Mapping[str, Any]) -> ChargeResult:
    payment_intent = data.get("payment_intent")
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent.get("id")
    customer = data.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    return ChargeResult(
        id=data["id"],
        payment_intent_id=payment_intent or None,
        customer_id=customer or None,
        amount_cents=int(data.get("amount") or 0),
        amount_refunded_cents=int(data.get("amount_refunded") or 0),
        captured=bool(data.get("captured")),
        status=str(data.get("status") or ""),
        currency=str(data.get("currency") or ""),
        created=int(data.get("created") or 0),
        metadata=dict(data.get("metadata") or {}),
        amount_captured_cents=(
            int(data["amount_captured"]) if data.get("amount_captured") is not None else None
        ),
    )


def list_charges(*, created_after: int) -> list[ChargeResult]:
    """Every charge created after ``created_after`` (a Unix time), newest first: what
    reconciliation walks to find money taken that the books do not know."""
    try:
        page = _client().v1.charges.list(params={"created": {"gt": created_after}, "limit": 100})
        return [_charge_result(_as_dict(c)) for c in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc


def retrieve_charge_fee(payment_intent_id: str) -> int | None:
    """Stripe's processing fee on the intent's charge, from its balance transaction; None
    while the charge has no balance transaction yet."""
    try:
        intent = _client().v1.payment_intents.retrieve(
            payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _charge_fee(_as_dict(intent).get("latest_charge"))


def refund(
    *,
    payment_intent_id: str,
    amount_cents: int,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> RefundResult:
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    try:
        result = _client().v1.refunds.create(
            params={
                "payment_intent": payment_intent_id,
                "amount": amount_cents,
                "metadata": _metadata(metadata),
            },
            options=_options(idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _refund_result(_as_dict(result))


def refund_charge(
    *, charge_id: str, amount_cents: int, idempotency_key: str, metadata: Mapping[str, object]
) -> RefundResult:
    """Refund a charge by its own id: for money our books do not know (no payment of ours
    names its PaymentIntent, or it has none)."""
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    try:
        result = _client().v1.refunds.create(
            params={"charge": charge_id, "amount": amount_cents, "metadata": _metadata(metadata)},
            options=_options(idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return _refund_result(_as_dict(result))


def list_refunds(payment_intent_id: str) -> list[RefundResult]:
    """Every refund of the intent, newest first.

    localstripe: the remainder a partial capture released shows up there as a refund without
    ``payment_intent``; it is left out (on Stripe every refund here names the intent).
    """
    try:
        page = _client().v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
        refunds = [_as_dict(r) for r in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return [_refund_result(r) for r in refunds if r.get("payment_intent") == payment_intent_id]


# --- webhooks ---------------------------------------------------------------------------------


def construct_webhook_event(*, payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The verified event as a plain dict; WebhookSignatureError for anything doubtful."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not set")
    if not signature_header:
        raise WebhookSignatureError("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(exc.user_message or str(exc)) from exc
    except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
        raise WebhookSignatureError(f"unreadable payload: {exc}") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookSignatureError("payload is not a Stripe event")
    return event


# --- payouts ----------------------------------------------------------------------------------


class PayoutGateway(Protocol):
    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult: ...


class StripeConnectPayouts:
    """A Stripe Connect transfer to the candidate's connected account.

    localstripe has no Connect: it answers 404, which raises GatewayError (not retryable).
    """

    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult:
        if amount_cents <= 0:
            raise ValueError("amount_cents must be positive")
        try:
            result = _as_dict(
                _client().v1.transfers.create(
                    params={
                        "amount": amount_cents,
                        "currency": currency,
                        "destination": destination_account_id,
                        "metadata": _metadata(metadata),
                    },
                    options=_options(idempotency_key),
                )
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return _transfer_result(result)


@dataclass(frozen=True)
class RecordedTransfer:
    id: str
    destination_account_id: str
    amount_cents: int
    currency: str
    idempotency_key: str
    metadata: dict[str, str]


class RecordingPayouts:
    """No network: records the transfer in memory and names it after the idempotency key.

    Like Stripe, a repeated key returns the first result without a second transfer, and the
    same key with different arguments is refused (``idempotency_error``). The record lives in
    this process only: it is for tests and development, not a ledger.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.transfers: list[RecordedTransfer] = []

    @staticmethod
    def transfer_id(idempotency_key: str) -> str:
        return "tr_rec_" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]

    def transfer(
        self,
        *,
        destination_account_id: str,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, object],
    ) -> TransferResult:
        if amount_cents <= 0:
            raise ValueError("amount_cents must be positive")
        if not idempotency_key:
            raise ValueError("every transfer needs an idempotency key")
        record = RecordedTransfer(
            id=self.transfer_id(idempotency_key),
            destination_account_id=destination_account_id,
            amount_cents=amount_cents,
            currency=currency,
            idempotency_key=idempotency_key,
            metadata=_metadata(metadata),
        )
        with self._lock:
            for earlier in self.transfers:
                if earlier.idempotency_key == idempotency_key:
                    if earlier != record:
                        raise GatewayError(
                            "idempotency_error",
                            f"key {idempotency_key!r} was used with other arguments",
                            retryable=False,
                        )
                    return TransferResult(id=earlier.id, status="recorded")
            self.transfers.append(record)
        return TransferResult(id=record.id, status="recorded")

    def clear(self) -> None:
        with self._lock:
            self.transfers.clear()


_recording_payouts = RecordingPayouts()


def payout_gateway() -> PayoutGateway:
    """The gateway named by ``settings.SLATE_PAYOUT_GATEWAY``: ``stripe_connect``, or
    ``recording`` (development and tests only, which production settings refuse; one instance
    per process, so tests can inspect ``.transfers``)."""
    name = getattr(settings, "SLATE_PAYOUT_GATEWAY", "recording") or "recording"
    if name == "recording":
        return _recording_payouts
    if name == "stripe_connect":
        return StripeConnectPayouts()
    raise ValueError(f"unknown SLATE_PAYOUT_GATEWAY {name!r} (recording or stripe_connect)")
