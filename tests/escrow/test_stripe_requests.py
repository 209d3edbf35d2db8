"""The requests escrow.stripe_gateway sends, checked against the stripe SDK's parameter classes.

How the check runs (tests/conftest.py, tests/stripe_params.py): every ``client.v1.<resource>.
<method>(params=...)`` call made in the test process is recorded, and the autouse fixture
``stripe_requests_match_the_sdk`` fails the test during which a call with an unknown or
misspelled parameter was made, naming the call and the parameter's path. Each test is judged
on its own calls, so the outcome does not depend on which tests run or in what order.

This module proves the two halves: the checker (the SDK's classes say what a parameter is),
and the recording (each gateway function's request really reaches the checker).
"""

from __future__ import annotations

import pytest
from stripe._payment_intent_service import PaymentIntentService
from stripe._payment_method_service import PaymentMethodService
from stripe._setup_intent_service import SetupIntentService

from escrow import stripe_gateway as gateway
from escrow import stripe_payouts
from escrow.stripe_gateway import GatewayError
from tests.stripe_params import RECORDER, StripeCall, StripeRequestRecorder, check_call

from .test_stripe_gateway import OK_CARD, saved_card

# What _create_payment_intent sends for a hold: a valid request the checks start from.
HOLD_PARAMS = {
    "amount": 5000,
    "currency": "usd",
    "customer": "cus_1",
    "payment_method": "pm_1",
    "allowed_payment_method_types": ["card"],
    "capture_method": "manual",
    "confirm": True,
    "off_session": True,
    "metadata": {"pledge_id": "1", "payment_id": "11"},
}


# --- the checker --------------------------------------------------------------------------------


def test_a_valid_hold_request_passes():
    assert check_call(PaymentIntentService, "create", HOLD_PARAMS) == []


def test_a_misspelled_parameter_is_reported():
    params = {**HOLD_PARAMS, "capture_metod": "manual"}
    assert check_call(PaymentIntentService, "create", params) == [
        "capture_metod: unknown parameter of PaymentIntentCreateParams"
    ]


def test_payment_method_types_is_unknown_to_the_api_version_the_sdk_speaks():
    # What the gateway sent until the check found it: Stripe answers 400
    # payment_method_types_no_longer_supported from API version 2026-09-30.endive on.
    params = {**HOLD_PARAMS, "payment_method_types": ["card"]}
    assert check_call(PaymentIntentService, "create", params) == [
        "payment_method_types: unknown parameter of PaymentIntentCreateParams"
    ]
    setup = {"customer": "cus_1", "usage": "off_session", "payment_method_types": ["card"]}
    assert check_call(SetupIntentService, "create", setup) == [
        "payment_method_types: unknown parameter of SetupIntentCreateParams"
    ]


def test_nested_parameters_are_checked_against_the_nested_class():
    card = {"number": OK_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    assert check_call(PaymentMethodService, "create", {"type": "card", "card": card}) == []
    card["numbr"] = card.pop("number")
    assert check_call(PaymentMethodService, "create", {"type": "card", "card": card}) == [
        "card.numbr: unknown parameter of PaymentMethodCreateParamsCard"
    ]
    deep = {**HOLD_PARAMS, "payment_method_options": {"card": {"request_three_d_secur": "any"}}}
    assert check_call(PaymentIntentService, "create", deep) == [
        "payment_method_options.card.request_three_d_secur: unknown parameter of "
        "PaymentIntentCreateParamsPaymentMethodOptionsCard"
    ]


def test_metadata_takes_any_key_but_must_be_an_object():
    free = {**HOLD_PARAMS, "metadata": {"anything_we_like": "1", "pledge_id": "2"}}
    assert check_call(PaymentIntentService, "create", free) == []
    assert check_call(PaymentIntentService, "create", {**HOLD_PARAMS, "metadata": "x"}) == [
        "metadata: expected an object, got str"
    ]


def test_an_object_where_a_scalar_is_expected_is_reported():
    params = {**HOLD_PARAMS, "amount": {"value": 5000}}
    assert check_call(PaymentIntentService, "create", params) == [
        "amount: expected int, got {'value': 5000}"
    ]


def test_a_request_option_inside_params_is_reported():
    # Given to a StripeClient in params, it would be posted to Stripe as a form field instead
    # of being sent as the Idempotency-Key header.
    params = {**HOLD_PARAMS, "idempotency_key": "pledge-1-hold-1"}
    assert check_call(PaymentIntentService, "create", params) == [
        "idempotency_key: a request option, not a parameter (pass it in options=)"
    ]


def test_expand_paths_must_walk_expandable_fields_of_the_returned_object():
    ok = {"expand": ["latest_charge.balance_transaction"]}
    assert check_call(PaymentIntentService, "retrieve", ok) == []
    bad = {"expand": ["latest_charge.balance_transactions", "latest_charge.amount", "charges"]}
    assert check_call(PaymentIntentService, "retrieve", bad) == [
        "expand 'latest_charge.balance_transactions': Charge has no field 'balance_transactions'",
        "expand 'latest_charge.amount': the last field is not expandable",
        "expand 'charges': PaymentIntent has no field 'charges'",
    ]


def test_the_report_names_the_call_the_test_and_the_parameter():
    recorder = StripeRequestRecorder()  # not installed: record() is called directly
    recorder.current_test = "tests/x.py::test_y"
    good = recorder.record(PaymentIntentService, "create", HOLD_PARAMS)
    bad = recorder.record(PaymentIntentService, "create", {**HOLD_PARAMS, "amout": 1})
    assert good.problems == ()
    assert recorder.report([good]) == ""
    assert recorder.report([good, bad]) == (
        "Stripe requests with parameters the stripe SDK does not define:\n"
        "PaymentIntentService.create(PaymentIntentCreateParams) during tests/x.py::test_y:\n"
        "    amout: unknown parameter of PaymentIntentCreateParams"
    )


def test_calls_outside_every_tests_window_are_left_for_the_session_backstop():
    recorder = StripeRequestRecorder()
    recorder.record(PaymentIntentService, "create", {"amout": 1})  # before any test
    mark = recorder.mark()
    recorder.record(PaymentIntentService, "create", {"amoun": 2})  # during a test
    assert [c.params for c in recorder.check_since(mark)] == [{"amoun": 2}]
    recorder.record(PaymentIntentService, "create", {"amou": 3})  # after it
    assert [c.params for c in recorder.unjudged()] == [{"amout": 1}, {"amou": 3}]


# --- the recording: every gateway function's request reaches the checker ----------------------


def _calls_since(mark: int) -> list[StripeCall]:
    return RECORDER.since(mark)


def test_every_gateway_request_is_recorded_and_matches_the_sdk(localstripe, settings):
    mark = RECORDER.mark()
    customer_id, method = saved_card()  # create_customer, create_setup_intent, PM, confirm
    setup = gateway.create_setup_intent(
        customer_id=customer_id, idempotency_key="seti-2", metadata={"pledge_id": 2}
    )
    gateway.retrieve_setup_intent(setup.id)
    hold = gateway.create_hold(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=5000,
        currency="usd",
        idempotency_key="hold-1",
        metadata={"pledge_id": 1},
    )
    gateway.capture(payment_intent_id=hold.id, amount_to_capture_cents=4000, idempotency_key="c1")
    gateway.retrieve_payment_intent(hold.id)
    gateway.retrieve_charge_fee(hold.id)
    gateway.refund(
        payment_intent_id=hold.id, amount_cents=1000, idempotency_key="r1", metadata={"a": 1}
    )
    gateway.list_refunds(hold.id)
    other = gateway.charge_off_session(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=700,
        currency="usd",
        idempotency_key="charge-1",
        metadata={"pledge_id": 3},
    )
    second_hold = gateway.create_hold(
        customer_id=customer_id,
        payment_method_id=method,
        amount_cents=900,
        currency="usd",
        idempotency_key="hold-2",
        metadata={"pledge_id": 4},
    )
    gateway.cancel(payment_intent_id=second_hold.id, idempotency_key="cancel-2")
    gateway.detach_payment_method(payment_method_id=method, idempotency_key="detach-1")
    with pytest.raises(GatewayError):  # localstripe has no Connect: 404, but it was sent
        stripe_payouts.StripeConnectPayouts().transfer(
            destination_account_id="acct_1",
            amount_cents=100,
            currency="usd",
            idempotency_key="tr-1",
            metadata={"payout_id": 1},
        )
    assert other.status == "succeeded"

    calls = _calls_since(mark)
    assert {(c.service, c.method) for c in calls} == {
        ("CustomerService", "create"),
        ("SetupIntentService", "create"),
        ("SetupIntentService", "retrieve"),
        ("SetupIntentService", "confirm"),
        ("PaymentMethodService", "create"),
        ("PaymentMethodService", "detach"),
        ("PaymentIntentService", "create"),
        ("PaymentIntentService", "capture"),
        ("PaymentIntentService", "retrieve"),
        ("PaymentIntentService", "cancel"),
        ("RefundService", "create"),
        ("RefundService", "list"),
        ("TransferService", "create"),
    }
    assert [c.describe() for c in calls if c.problems] == []
    creates = [c for c in calls if (c.service, c.method) == ("PaymentIntentService", "create")]
    assert creates[0].params_class == "PaymentIntentCreateParams"
    assert creates[0].params["allowed_payment_method_types"] == ["card"]
    assert creates[0].params["capture_method"] == "manual"
    assert all(c.test.endswith("test_every_gateway_request_is_recorded_and_matches_the_sdk")
               for c in calls)  # fmt: skip
