"""The one module that talks to Stripe.

Every function builds its client from the settings of the moment (``STRIPE_SECRET_KEY`` and,
when set, ``STRIPE_API_BASE``, which points the client at localstripe), calls Stripe with the
caller's idempotency key, and returns plain dataclasses (``stripe_results``, which also reads
Stripe's objects into them): no Stripe object leaves this module.

Errors:

* A card that is declined or needs authentication is an *answer*, not an error, for
  ``create_hold``, ``charge_off_session``, ``capture`` and ``confirm_setup_intent``: they
  return the intent (status ``requires_payment_method`` / ``requires_action`` / ``canceled``,
  with ``last_error_code`` and ``decline_code`` filled) so the caller can move the pledge to
  ``needs_action``.
* Anything else Stripe refuses raises :class:`GatewayError` (through ``_stripe_errors``, the
  one place it is translated), whose ``retryable`` says whether the same call with the same
  idempotency key may succeed later (network errors, rate limits, 5xx) or not.

Client: one ``stripe.StripeClient`` per (key, base, retries), cached; the module-level
``stripe.api_key``/``stripe.api_base`` globals are never touched, so nothing leaks between
settings in tests.

localstripe (the fake used by the tests and ``make run``) differs from Stripe in ways this
module and ``stripe_results`` smooth over, each marked "localstripe:": here, a declined
charge's error names the charge but not the PaymentIntent, and its intent list takes no
filter. It also predates the parameter names of the API version the SDK pins;
``escrow.devstripe`` teaches it those, so the requests here are the ones Stripe takes
(tests/stripe_params.py checks each against the SDK's parameter classes).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings

from .stripe_results import (
    ChargeResult,
    GatewayError,
    PaymentIntentResult,
    RefundResult,
    SetupIntentResult,
    StripeEventFacts,
    TransferResult,
    WebhookSignatureError,
    as_dict,
    charge_fee,
    charge_result,
    dispute_facts,
    event_facts,
    gateway_error,
    metadata_strings,
    payment_intent_result,
    refund_result,
    setup_intent_result,
    transfer_result,
)

# What callers use: the calls below, and the results and errors they return or raise.
__all__ = [
    "ChargeResult",
    "GatewayError",
    "PaymentIntentResult",
    "RefundResult",
    "SetupIntentResult",
    "StripeEventFacts",
    "TransferResult",
    "WebhookSignatureError",
    "cancel",
    "capture",
    "charge_off_session",
    "confirm_setup_intent",
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
    "refund",
    "refund_charge",
    "retrieve_charge_fee",
    "retrieve_payment_intent",
    "retrieve_setup_intent",
    "transfer",
]


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
        # charge on Stripe (localstripe ignores the key; see tests/localstripe.py).
        int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2)),
    )


def _options(idempotency_key: str) -> dict[str, Any]:
    if not idempotency_key:
        raise ValueError("every mutating Stripe call needs an idempotency key")
    return {"idempotency_key": idempotency_key}


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """The one place Stripe's refusals become ``GatewayError`` (retryable or not): every call
    runs in it. A card error a call answers with (a declined card) is caught inside it."""
    try:
        yield
    except stripe.StripeError as exc:
        raise gateway_error(exc) from exc


def _intent_from_card_error(exc: stripe.CardError) -> PaymentIntentResult:
    """The PaymentIntent a card error is about, as a result; GatewayError when there is none."""
    body = (exc.json_body or {}).get("error") or {}
    intent = as_dict(getattr(exc.error, "payment_intent", None)) if exc.error else {}
    if not intent.get("id"):
        # localstripe: the error names the failed charge only; the charge names its intent.
        charge_id = body.get("charge")
        if charge_id:
            with _stripe_errors():
                client = _client()
                charge = as_dict(client.v1.charges.retrieve(charge_id))
                if charge.get("payment_intent"):
                    intent = as_dict(client.v1.payment_intents.retrieve(charge["payment_intent"]))
    if not intent.get("id"):
        raise GatewayError(
            exc.code or "card_error", exc.user_message or str(exc), False, exc.http_status
        ) from exc
    return payment_intent_result(intent, body)


# --- customers and saved cards ----------------------------------------------------------------


def create_customer(*, email: str, idempotency_key: str, metadata: Mapping[str, object]) -> str:
    with _stripe_errors():
        customer = _client().v1.customers.create(
            params={"email": email, "metadata": metadata_strings(metadata)},
            options=_options(idempotency_key),
        )
    return customer.id


def create_setup_intent(
    *, customer_id: str, idempotency_key: str, metadata: Mapping[str, object]
) -> SetupIntentResult:
    with _stripe_errors():
        intent = _client().v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "allowed_payment_method_types": ["card"],
                "metadata": metadata_strings(metadata),
            },
            options=_options(idempotency_key),
        )
    return setup_intent_result(as_dict(intent))


def retrieve_setup_intent(setup_intent_id: str) -> SetupIntentResult:
    with _stripe_errors():
        intent = _client().v1.setup_intents.retrieve(setup_intent_id)
    return setup_intent_result(as_dict(intent))


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
    with _stripe_errors():
        try:
            intent = client.v1.setup_intents.confirm(
                setup_intent_id, params=params, options=_options(idempotency_key)
            )
        except stripe.CardError as exc:
            data = as_dict(getattr(exc.error, "setup_intent", None)) if exc.error else {}
            if not data.get("id"):
                data = as_dict(client.v1.setup_intents.retrieve(setup_intent_id))
            return setup_intent_result(data, error_code=exc.code or "card_error")
    return setup_intent_result(as_dict(intent))


def create_test_payment_method(*, card_number: str, customer_id: str | None = None) -> str:
    """A card PaymentMethod from a raw test number: tests, development and benchmarks only.
    With ``customer_id`` it is also attached to that customer, as a card saved through a
    SetupIntent would be (the benchmarks charge one saved card many times)."""
    if settings.STRIPE_SECRET_KEY.startswith(("sk_live", "rk_live")):
        raise GatewayError("test_only", "raw card numbers are for test mode only", False)
    client = _client()
    with _stripe_errors():
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        if customer_id:
            client.v1.payment_methods.attach(method.id, params={"customer": customer_id})
    return method.id


def detach_payment_method(*, payment_method_id: str, idempotency_key: str) -> None:
    """Forget a saved card (supporter's request, or after a void)."""
    with _stripe_errors():
        _client().v1.payment_methods.detach(payment_method_id, options=_options(idempotency_key))


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
    with _stripe_errors():
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
                    "metadata": metadata_strings(metadata),
                },
                options=_options(idempotency_key),
            )
        except stripe.CardError as exc:
            return _intent_from_card_error(exc)
    return payment_intent_result(as_dict(intent))


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
    with _stripe_errors():
        try:
            intent = _client().v1.payment_intents.capture(
                payment_intent_id,
                params={"amount_to_capture": amount_to_capture_cents},
                options=_options(idempotency_key),
            )
        except stripe.CardError as exc:
            return _intent_from_card_error(exc)
    return payment_intent_result(as_dict(intent))


def cancel(*, payment_intent_id: str, idempotency_key: str) -> PaymentIntentResult:
    """Void a hold (or an intent still waiting for the supporter)."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.cancel(
            payment_intent_id, options=_options(idempotency_key)
        )
    return payment_intent_result(as_dict(intent))


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntentResult:
    with _stripe_errors():
        intent = _client().v1.payment_intents.retrieve(payment_intent_id)
    return payment_intent_result(as_dict(intent))


def _unsupported_filter(exc: stripe.InvalidRequestError) -> bool:
    """localstripe: its PaymentIntent list takes no filter and answers 400 "Unexpected
    customer"; real Stripe filters by customer and creation time."""
    return "Unexpected" in str(exc)


def _customer_payment_intents(customer_id: str, created_after: int | None) -> list[dict]:
    client = _client()
    params: dict[str, Any] = {"customer": customer_id, "limit": 100}
    if created_after is not None:
        params["created"] = {"gte": created_after}
    with _stripe_errors():
        try:
            page = client.v1.payment_intents.list(params=params)
            return [as_dict(i) for i in page.auto_paging_iter()]
        except stripe.InvalidRequestError as exc:
            if not _unsupported_filter(exc):
                raise
        # localstripe lists every intent it has; keep the customer's
        page = client.v1.payment_intents.list(params={"limit": 100})
        every = [as_dict(i) for i in page.auto_paging_iter()]
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
    wanted = metadata_strings(metadata)
    for data in _customer_payment_intents(customer_id, created_after):
        found = data.get("metadata") or {}
        if all(found.get(k) == v for k, v in wanted.items()):
            return payment_intent_result(data)
    return None


def list_charges(*, created_after: int) -> list[ChargeResult]:
    """Every charge created after ``created_after`` (a Unix time), newest first: what
    reconciliation walks to find money taken that the books do not know."""
    with _stripe_errors():
        page = _client().v1.charges.list(params={"created": {"gt": created_after}, "limit": 100})
        return [charge_result(as_dict(c)) for c in page.auto_paging_iter()]


def retrieve_charge_fee(payment_intent_id: str) -> int | None:
    """Stripe's processing fee on the intent's charge, from its balance transaction; None
    while the charge has no balance transaction yet."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.retrieve(
            payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
        )
    return charge_fee(as_dict(intent).get("latest_charge"))


def refund(
    *,
    payment_intent_id: str,
    amount_cents: int,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> RefundResult:
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    with _stripe_errors():
        result = _client().v1.refunds.create(
            params={
                "payment_intent": payment_intent_id,
                "amount": amount_cents,
                "metadata": metadata_strings(metadata),
            },
            options=_options(idempotency_key),
        )
    return refund_result(as_dict(result))


def refund_charge(
    *, charge_id: str, amount_cents: int, idempotency_key: str, metadata: Mapping[str, object]
) -> RefundResult:
    """Refund a charge by its own id: for money our books do not know (no payment of ours
    names its PaymentIntent, or it has none)."""
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    with _stripe_errors():
        result = _client().v1.refunds.create(
            params={
                "charge": charge_id,
                "amount": amount_cents,
                "metadata": metadata_strings(metadata),
            },
            options=_options(idempotency_key),
        )
    return refund_result(as_dict(result))


def list_refunds(payment_intent_id: str) -> list[RefundResult]:
    """Every refund of the intent, newest first.

    localstripe: the remainder a partial capture released shows up there as a refund without
    ``payment_intent``; it is left out (on Stripe every refund here names the intent).
    """
    with _stripe_errors():
        page = _client().v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
        refunds = [as_dict(r) for r in page.auto_paging_iter()]
    return [refund_result(r) for r in refunds if r.get("payment_intent") == payment_intent_id]


# --- transfers --------------------------------------------------------------------------------


def transfer(
    *,
    destination_account_id: str,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    metadata: Mapping[str, object],
) -> TransferResult:
    """A Stripe Connect transfer to a candidate's connected account (``stripe_payouts``).

    localstripe has no Connect: it answers 404, which raises GatewayError (not retryable).
    """
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    with _stripe_errors():
        result = _client().v1.transfers.create(
            params={
                "amount": amount_cents,
                "currency": currency,
                "destination": destination_account_id,
                "metadata": metadata_strings(metadata),
            },
            options=_options(idempotency_key),
        )
    return transfer_result(as_dict(result))
