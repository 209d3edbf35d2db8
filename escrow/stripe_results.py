"""What the gateway returns, and how Stripe's objects become it: plain dataclasses read from
Stripe's JSON (or localstripe's), no network and no Stripe object. The gateway
(``stripe_gateway``) calls Stripe and hands the answers to the readers here;
tests/escrow/test_stripe_shapes.py feeds them Stripe's own published examples.

localstripe (the fake the tests and ``make run`` use) differs in ways the readers smooth over,
each marked "localstripe:" below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

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


# --- reading Stripe's objects -------------------------------------------------------------------


def metadata_strings(metadata: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def setup_intent_result(
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


def payment_intent_result(
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


def refund_result(data: Mapping[str, Any]) -> RefundResult:
    return RefundResult(
        id=data["id"],
        status=data["status"],
        amount_cents=int(data["amount"]),
        metadata=dict(data.get("metadata") or {}),
    )


def id_of(value: Any) -> str | None:
    """An expandable field's id: Stripe sends the id string unless the field was expanded,
    then the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value else None


def balance_transaction_fee(data: Mapping[str, Any]) -> int:
    return int(data.get("fee") or 0)


def charge_fee(charge: Any) -> int | None:
    """The fee on a charge whose ``balance_transaction`` was expanded; None while the charge
    has none (or it was not expanded: the id alone says nothing about the fee)."""
    balance_transaction = charge.get("balance_transaction") if isinstance(charge, Mapping) else None
    if not isinstance(balance_transaction, Mapping):
        return None
    return balance_transaction_fee(balance_transaction)


def transfer_result(data: Mapping[str, Any]) -> TransferResult:
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
        "payment_intent_id": id_of(data.get("payment_intent")),
        "charge_id": id_of(data.get("charge")),
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
    object_id = id_of(obj.get("id"))
    if object_type == "payment_intent":
        payment_intent_id = object_id
    elif object_type in ("charge", "refund", "dispute"):
        payment_intent_id = id_of(obj.get("payment_intent"))
    else:
        payment_intent_id = None
    return StripeEventFacts(
        id=str(event.get("id") or ""),
        type=str(event.get("type") or ""),
        object_type=object_type,
        object_id=object_id,
        payment_intent_id=payment_intent_id,
    )


def charge_result(data: Mapping[str, Any]) -> ChargeResult:
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


# --- errors ---------------------------------------------------------------------------------------


def gateway_error(exc: stripe.StripeError) -> GatewayError:
    """A Stripe exception as our GatewayError: its code, and whether a retry may succeed."""
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
