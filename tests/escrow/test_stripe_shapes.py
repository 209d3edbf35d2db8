"""The gateway's parsers read Stripe's real shapes, not only localstripe's.

Every object the gateway reads starts from Stripe's own published example of it
(tests/escrow/stripe_fixtures/fixtures3.json, see the README there), changed only in the fields
Stripe sets for the situation under test (a PaymentIntent's status and amounts, the charge it
names, ...). A PaymentIntent's ``latest_charge`` is tried both ways Stripe sends it: the charge's
id (the default) and the charge itself (when expanded); the result must not depend on which.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from escrow import stripe_gateway as gateway
from escrow import stripe_results as results
from escrow.stripe_gateway import PaymentIntentResult

FIXTURES = Path(__file__).parent / "stripe_fixtures" / "fixtures3.json"
AMOUNT = 5_000


@cache
def _resources() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text())["resources"]


def example(resource: str, **changes: Any) -> dict[str, Any]:
    """Stripe's example ``resource`` (a fresh copy) with ``changes`` applied."""
    obj = copy.deepcopy(_resources()[resource])
    obj.update(changes)
    return obj


def test_the_examples_are_stripes_own():
    """The fields these tests rely on are as Stripe publishes them (not localstripe's)."""
    intent = example("payment_intent")
    assert intent["object"] == "payment_intent"
    assert {"amount_capturable", "amount_received", "latest_charge"} <= intent.keys()
    assert example("charge")["balance_transaction"] == "txn_1PgaxNB7WZ01zgkWEV3TLf40"
    assert example("dispute")["payment_intent"] is None
    assert example("event")["data"]["object"]["object"] == "plan"


# --- PaymentIntent ------------------------------------------------------------------------------


def charge_of(intent_id: str, **changes: Any) -> dict[str, Any]:
    """Stripe's example Charge, made the charge of ``intent_id``."""
    return example("charge", amount=AMOUNT, payment_intent=intent_id, customer="cus_1", **changes)


def payment_intent(status: str, charge: dict | None, *, expanded: bool, **changes) -> dict:
    """Stripe's example PaymentIntent for a $50 off-session card payment in ``status``, its
    ``latest_charge`` the id of ``charge`` or (``expanded``) the charge itself."""
    intent = example(
        "payment_intent",
        amount=AMOUNT,
        status=status,
        customer="cus_1",
        payment_method="pm_1",
        capture_method="manual",
        metadata={"pledge_id": "7", "payment_id": "11"},
        last_payment_error=None,
        next_action=None,
        canceled_at=None,
    )
    if charge is not None:
        charge["payment_intent"] = intent["id"]
        intent["latest_charge"] = charge if expanded else charge["id"]
    intent.update(changes)
    return intent


def expected(intent: dict, **fields: Any) -> PaymentIntentResult:
    base = {
        "id": intent["id"],
        "status": intent["status"],
        "amount_cents": AMOUNT,
        "amount_capturable_cents": 0,
        "amount_received_cents": 0,
        "currency": "usd",
        "client_secret": intent["client_secret"],
        "last_error_code": None,
        "last_error_message": None,
        "decline_code": None,
        "metadata": {"pledge_id": "7", "payment_id": "11"},
    }
    return PaymentIntentResult(**{**base, **fields})


@pytest.fixture(params=[False, True], ids=["latest_charge_id", "latest_charge_expanded"])
def expanded(request) -> bool:
    return request.param


def test_a_hold_the_bank_agreed_to(expanded):
    charge = charge_of("", captured=False, amount_captured=0)
    intent = payment_intent("requires_capture", charge, expanded=expanded, amount_capturable=AMOUNT)
    result = results.payment_intent_result(intent)
    assert result == expected(intent, amount_capturable_cents=AMOUNT)
    assert not result.needs_action


def test_a_payment_captured_in_full(expanded):
    charge = charge_of("", captured=True, amount_captured=AMOUNT)
    intent = payment_intent("succeeded", charge, expanded=expanded, amount_received=AMOUNT)
    assert results.payment_intent_result(intent) == expected(intent, amount_received_cents=AMOUNT)


def test_a_hold_captured_in_part(expanded):
    """On Stripe the charge keeps the authorized amount and ``amount_captured`` says what was
    taken; the remainder is released, not refunded (localstripe books it as a refund)."""
    charge = charge_of("", captured=True, amount_captured=4_000, refunded=False)
    intent = payment_intent("succeeded", charge, expanded=expanded, amount_received=4_000)
    assert results.payment_intent_result(intent) == expected(intent, amount_received_cents=4_000)


def test_a_payment_waiting_for_authentication(expanded):
    intent = payment_intent(
        "requires_action", None, expanded=expanded, next_action={"type": "use_stripe_sdk"}
    )
    result = results.payment_intent_result(intent)
    assert result == expected(intent)
    assert result.needs_action


def test_a_declined_payment(expanded):
    charge = charge_of(
        "",
        status="failed",
        paid=False,
        captured=False,
        failure_code="card_declined",
        failure_message="Your card has insufficient funds.",
    )
    error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "charge": charge["id"],
    }
    intent = payment_intent(
        "requires_payment_method", charge, expanded=expanded, last_payment_error=error
    )
    result = results.payment_intent_result(intent)
    assert result == expected(
        intent,
        last_error_code="card_declined",
        last_error_message="Your card has insufficient funds.",
        decline_code="insufficient_funds",
    )
    assert result.needs_action


def test_a_voided_hold(expanded):
    """Canceling a hold refunds (releases) its uncaptured charge: nothing capturable, nothing
    received."""
    charge = charge_of("", captured=False, amount_captured=0, refunded=True, amount_refunded=AMOUNT)
    intent = payment_intent(
        "canceled",
        charge,
        expanded=expanded,
        canceled_at=1_234_567_890,
        cancellation_reason="requested_by_customer",
    )
    assert results.payment_intent_result(intent) == expected(intent)


@pytest.mark.parametrize("status", ["requires_confirmation", "processing"])
def test_other_statuses_pass_through(status, expanded):
    intent = payment_intent(status, None, expanded=expanded)
    result = results.payment_intent_result(intent)
    assert result == expected(intent)
    assert not result.needs_action


def test_stripes_example_payment_intent_as_published():
    """Its ``last_payment_error`` carries a type but no code: no code is made up."""
    intent = example("payment_intent")
    result = results.payment_intent_result(intent)
    assert (result.status, result.amount_cents, result.currency) == (
        "requires_payment_method",
        1099,
        "usd",
    )
    assert (result.amount_capturable_cents, result.amount_received_cents) == (0, 0)
    assert (result.last_error_code, result.decline_code) == (None, None)
    assert result.needs_action


# --- SetupIntent ------------------------------------------------------------------------------


def test_a_setup_intent_waiting_for_a_card():
    intent = example("setup_intent")
    result = results.setup_intent_result(intent)
    assert result == gateway.SetupIntentResult(
        id="seti_1Pgag7B7WZ01zgkWSgwGdb8Z",
        status="requires_payment_method",
        client_secret=intent["client_secret"],
        payment_method_id=None,
        last_error_code=None,
    )
    assert not result.succeeded


@pytest.mark.parametrize("expanded_method", [False, True], ids=["id", "expanded"])
def test_a_setup_intent_that_saved_a_card(expanded_method):
    method = {"id": "pm_1", "object": "payment_method", "type": "card"}
    intent = example(
        "setup_intent",
        status="succeeded",
        customer="cus_1",
        last_setup_error=None,
        payment_method=method if expanded_method else "pm_1",
    )
    result = results.setup_intent_result(intent)
    assert (result.status, result.payment_method_id, result.last_error_code) == (
        "succeeded",
        "pm_1",
        None,
    )
    assert result.succeeded


def test_a_setup_intent_whose_card_was_declined():
    intent = example(
        "setup_intent",
        last_setup_error={"type": "card_error", "code": "card_declined", "message": "declined"},
    )
    assert results.setup_intent_result(intent).last_error_code == "card_declined"


# --- Charge and BalanceTransaction: the fee -------------------------------------------------


def test_the_fee_of_a_charge_whose_balance_transaction_was_expanded():
    fee = example("balance_transaction", fee=175, net=AMOUNT - 175, amount=AMOUNT)
    assert results.balance_transaction_fee(fee) == 175
    assert results.charge_fee(charge_of("pi_1", balance_transaction=fee)) == 175
    assert results.balance_transaction_fee(example("balance_transaction")) == 0


def test_no_fee_while_the_charge_has_no_balance_transaction_or_it_is_an_id():
    assert results.charge_fee(charge_of("pi_1", balance_transaction=None)) is None
    assert results.charge_fee(example("charge")) is None  # "txn_...": not expanded
    assert results.charge_fee("ch_1PgafuB7WZ01zgkWXYmPNZs8") is None  # latest_charge as id


def test_retrieve_charge_fee_reads_stripes_expanded_intent(settings):
    """What retrieve_charge_fee gets back from Stripe with
    ``expand=["latest_charge.balance_transaction"]``."""
    settings.STRIPE_SECRET_KEY = "sk_test_shapes"
    fee = example("balance_transaction", fee=175)
    intent = payment_intent(
        "succeeded", charge_of("", balance_transaction=fee), expanded=True, amount_received=AMOUNT
    )
    client = mock.Mock()
    client.v1.payment_intents.retrieve.return_value = intent
    with mock.patch.object(gateway, "_client", return_value=client):
        assert gateway.retrieve_charge_fee(intent["id"]) == 175
    client.v1.payment_intents.retrieve.assert_called_once_with(
        intent["id"], params={"expand": ["latest_charge.balance_transaction"]}
    )


# --- Charge -----------------------------------------------------------------------------------


def test_stripes_example_charge_made_without_an_intent():
    assert results.charge_result(example("charge")) == gateway.ChargeResult(
        id="ch_1PgafuB7WZ01zgkWXYmPNZs8",
        payment_intent_id=None,
        customer_id=None,
        amount_cents=100,
        amount_refunded_cents=0,
        captured=False,
        status="succeeded",
        currency="usd",
        created=1234567890,
        metadata={},
        amount_captured_cents=0,
    )


@pytest.mark.parametrize("expanded_fields", [False, True], ids=["ids", "expanded"])
def test_a_charge_of_one_of_our_intents(expanded_fields):
    intent = payment_intent("succeeded", None, expanded=False, amount_received=AMOUNT)
    customer = {"id": "cus_1", "object": "customer", "email": "a@slate.test"}
    charge = charge_of(
        intent["id"],
        captured=True,
        amount_captured=AMOUNT,
        amount_refunded=1_000,
        refunded=False,
        metadata={"pledge_id": "7"},
    )
    if expanded_fields:
        charge.update(payment_intent=intent, customer=customer)
    result = results.charge_result(charge)
    assert (result.payment_intent_id, result.customer_id) == (intent["id"], "cus_1")
    assert (result.amount_cents, result.amount_refunded_cents, result.captured) == (
        AMOUNT,
        1_000,
        True,
    )
    assert result.metadata == {"pledge_id": "7"}


def test_a_charge_captured_in_part_takes_what_was_captured_not_what_was_authorized():
    """Stripe keeps the authorized ``amount`` on the charge and says what was taken in
    ``amount_captured``; the remainder is released, not refunded. An unknown charge of this
    shape is reported (and refundable) for what it took."""
    from escrow.reconcile import _orphan_facts

    charge = charge_of(
        None, captured=True, amount_captured=4_000, amount_refunded=0, refunded=False
    )
    result = results.charge_result(charge)
    assert (result.amount_cents, result.amount_captured_cents) == (AMOUNT, 4_000)
    assert result.outstanding_cents == 4_000
    assert _orphan_facts(result)["amount_cents"] == 4_000
    refunded_in_part = results.charge_result({**charge, "amount_refunded": 1_500})
    assert _orphan_facts(refunded_in_part)["amount_cents"] == 2_500
    refunded_whole = results.charge_result({**charge, "amount_refunded": 4_000})
    assert _orphan_facts(refunded_whole) is None


def test_a_hold_not_captured_holds_the_whole_authorization():
    held = results.charge_result(charge_of(None, captured=False, amount_captured=0))
    assert held.outstanding_cents == AMOUNT


# --- Refund -----------------------------------------------------------------------------------


def test_a_refund():
    refund = example("refund", payment_intent="pi_1", metadata={"refund_id": "3"})
    assert results.refund_result(refund) == gateway.RefundResult(
        id="re_1Pgc72B7WZ01zgkWqPvrRrPE",
        status="succeeded",
        amount_cents=100,
        metadata={"refund_id": "3"},
    )
    pending = example("refund", status="pending")
    assert results.refund_result(pending).status == "pending"


# --- Transfer ---------------------------------------------------------------------------------


def test_a_transfer_is_paid_when_created_and_reversed_when_reversed():
    assert results.transfer_result(example("transfer")) == gateway.TransferResult(
        id="tr_1Pgc7BB7WZ01zgkWVJfE40RX", status="paid"
    )
    reversed_ = example("transfer", reversed=True, amount_reversed=1100)
    assert results.transfer_result(reversed_).status == "reversed"


# --- Dispute ----------------------------------------------------------------------------------


def test_stripes_example_dispute_names_no_payment_intent():
    assert gateway.dispute_facts(example("dispute")) == {
        "id": "dp_1Pgc71B7WZ01zgkWMevJiAUx",
        "payment_intent_id": None,
        "charge_id": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        "status": "warning_needs_response",
        "amount_cents": 1000,
        "reason": "general",
        "due_by": 1723679999,
    }


@pytest.mark.parametrize("expanded_intent", [False, True], ids=["id", "expanded"])
def test_a_dispute_on_one_of_our_payments(expanded_intent):
    intent = payment_intent("succeeded", None, expanded=False, amount_received=AMOUNT)
    dispute = example(
        "dispute",
        status="needs_response",
        reason="fraudulent",
        amount=AMOUNT,
        payment_intent=intent if expanded_intent else intent["id"],
    )
    facts = gateway.dispute_facts(dispute)
    assert (facts["payment_intent_id"], facts["status"], facts["amount_cents"]) == (
        intent["id"],
        "needs_response",
        AMOUNT,
    )
    assert json.loads(json.dumps(facts)) == facts  # the alert task takes it as it is


# --- Event ------------------------------------------------------------------------------------


def event_about(obj: dict, event_type: str) -> dict:
    return example("event", type=event_type, data={"object": obj})


def test_stripes_example_event_as_published():
    facts = gateway.event_facts(example("event"))
    assert facts == gateway.StripeEventFacts(
        id="evt_1Pgc76B7WZ01zgkWwyRHS12y",
        type="plan.created",
        object_type="plan",
        object_id="price_1PgafmB7WZ01zgkW6dKueIc5",
        payment_intent_id=None,
    )


def test_events_name_the_payment_intent_their_object_is_about():
    intent = payment_intent("succeeded", None, expanded=False, amount_received=AMOUNT)
    pi = intent["id"]
    cases = [
        (intent, "payment_intent.succeeded", pi),
        (example("setup_intent"), "setup_intent.succeeded", None),
        (charge_of(pi), "charge.refunded", pi),
        (example("charge"), "charge.refunded", None),  # a charge made without an intent
        (example("refund", payment_intent=pi), "refund.created", pi),
        (example("dispute", payment_intent=pi), "charge.dispute.created", pi),
        (example("dispute"), "charge.dispute.created", None),
        (example("dispute", payment_intent=intent), "charge.dispute.closed", pi),  # expanded
        (example("transfer"), "transfer.created", None),
    ]
    for obj, event_type, payment_intent_id in cases:
        facts = gateway.event_facts(event_about(obj, event_type))
        assert (facts.type, facts.object_type, facts.object_id, facts.payment_intent_id) == (
            event_type,
            obj["object"],
            obj["id"],
            payment_intent_id,
        ), event_type


def test_an_object_that_does_not_say_what_it_is_is_read_from_the_event_type():
    """Stripe's objects always carry ``object``; a stored payload cut down to a few fields (or
    a hand-made one) may not: the event type says it then."""
    cases = [
        ({"id": "pi_1"}, "payment_intent.succeeded", "payment_intent", "pi_1"),
        ({"id": "dp_1", "payment_intent": "pi_2"}, "charge.dispute.closed", "dispute", "pi_2"),
        ({"id": "ch_1", "payment_intent": "pi_3"}, "charge.refunded", "charge", "pi_3"),
        ({"id": "seti_1"}, "setup_intent.succeeded", "setup_intent", None),
    ]
    for obj, event_type, object_type, payment_intent_id in cases:
        facts = gateway.event_facts({"id": "evt_1", "type": event_type, "data": {"object": obj}})
        assert (facts.object_type, facts.payment_intent_id) == (object_type, payment_intent_id)


# --- the webhook, fed Stripe's example dispute --------------------------------------------


@pytest.mark.django_db
def test_a_dispute_naming_no_payment_intent_touches_no_payment(
    client, localstripe, settings, django_capture_on_commit_callbacks
):
    """Stripe's example dispute (``"payment_intent": null``) while a payment is being created
    (its intent id not known yet, NULL in the table): the dispute is not ours, and must not be
    booked against that payment."""
    from django.core import mail

    from escrow import sweeper
    from escrow.models import LedgerTransaction, Payment
    from tests.escrow.cards import pledge_with_card
    from tests.factories import make_open_slate, sign, slate_candidates

    from .test_webhooks import post_event

    settings.ADMINS = [("Staff", "staff@example.org")]
    slate = make_open_slate(candidates=1, min_signatures=1)
    pledge_with_card(slate)
    outage = gateway.GatewayError("api_connection_error", "Stripe unreachable", True)
    with (
        mock.patch.object(gateway, "charge_off_session", side_effect=outage),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sign(slate_candidates(slate)[0], slate)
    creating = Payment.objects.get()
    assert (creating.status, creating.payment_intent_id) == (Payment.Status.CREATING, None)
    mail.outbox.clear()

    stripes_example = example("dispute", status="needs_response")
    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_example_dispute", "charge.dispute.created", stripes_example,
    )  # fmt: skip

    creating.refresh_from_db()
    assert (creating.disputed, creating.dispute_id, creating.disputed_cents) == (False, "", 0)
    assert not LedgerTransaction.objects.filter(kind="dispute").exists()
    assert mail.outbox == []
    # And the payment is still finished as usual once Stripe answers.
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    creating.refresh_from_db()
    assert creating.status == Payment.Status.SUCCEEDED
    assert not creating.disputed
