"""The money rows' state tables (escrow.states): every allowed move is applied, every other
one refused before anything is written; the status groups are the ones the database's
constraint enforces; a PaymentIntent's answer moves a payment only along its table."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from escrow import payments
from escrow.models import Payment, Payout, Refund
from escrow.states import (
    PAYMENT_IN_FLIGHT,
    PAYMENT_OPEN,
    PAYMENT_TRANSITIONS,
    PAYOUT_RESERVED,
    PAYOUT_SENT,
    PAYOUT_TRANSITIONS,
    REFUND_PENDING,
    REFUND_TRANSITIONS,
    TRANSITIONS_BY_STATUS,
    InvalidMove,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
    move_status,
)
from escrow.stripe_gateway import PaymentIntentResult
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import UserFactory, make_open_slate, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=2, min_signatures=2)


def _pledge(slate):
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=1_000
    )
    return pledge_services.commit_money_pledge(pledge=pledge)


def _payment(slate, status: str, attempt: int = 1, pledge=None) -> Payment:
    return Payment.objects.create(
        pledge=pledge or _pledge(slate), attempt=attempt, purpose=Payment.Purpose.HOLD,
        amount_cents=1_000, status=status,
    )  # fmt: skip


def _payout(slate, status: str) -> Payout:
    return Payout.objects.create(
        slate=slate, candidate=slate_candidates(slate)[0], amount_cents=1_000, status=status,
        due_at=timezone.now() + timedelta(days=10),
    )  # fmt: skip


def _refund(slate, status: str) -> Refund:
    payment = _payment(slate, Payment.Status.SUCCEEDED)
    return Refund.objects.create(
        payment=payment, number=1, amount_cents=500, reason="test", status=status
    )


MAKERS = {PaymentStatus: _payment, PayoutStatus: _payout, RefundStatus: _refund}
ALL_PAIRS = [
    (statuses, a, b)
    for statuses in (PaymentStatus, PayoutStatus, RefundStatus)
    for a in statuses.values
    for b in statuses.values
]


@pytest.mark.parametrize(("statuses", "from_status", "to_status"), ALL_PAIRS)
def test_every_money_row_moves_only_along_its_table(slate, statuses, from_status, to_status):
    row = MAKERS[statuses](slate, from_status)
    allowed = to_status in TRANSITIONS_BY_STATUS[statuses][from_status]
    with transaction.atomic():
        locked = type(row).objects.select_for_update().get(pk=row.pk)
        if allowed:
            move_status(locked, to_status)
            locked.save(update_fields=["status"])
        else:
            with pytest.raises(InvalidMove) as excinfo:
                move_status(locked, to_status)
            assert excinfo.value.code == "invalid_transition"
            assert locked.status == from_status  # refused before anything changed
    row.refresh_from_db()
    assert row.status == (to_status if allowed else from_status)


@pytest.mark.parametrize(
    ("statuses", "table"),
    [
        (PaymentStatus, PAYMENT_TRANSITIONS),
        (PayoutStatus, PAYOUT_TRANSITIONS),
        (RefundStatus, REFUND_TRANSITIONS),
    ],
)
def test_each_table_names_every_status_and_only_statuses(statuses, table):
    assert set(table) == set(statuses.values)
    for targets in table.values():
        assert targets <= set(statuses.values)
    # Every status but the one a row is created in is reached by some move.
    reachable = set().union(*table.values())
    assert set(statuses.values) - {statuses.values[0]} <= reachable


def test_the_groups_are_the_models_and_the_tables():
    assert Payment.Status is PaymentStatus and Payout.Status is PayoutStatus
    assert Refund.Status is RefundStatus
    assert Payment.OPEN == PAYMENT_OPEN and Payment.IN_FLIGHT == PAYMENT_IN_FLIGHT
    assert set(PAYMENT_IN_FLIGHT) <= set(PAYMENT_OPEN)
    # Final statuses are never open, in flight, reserved or pending.
    for statuses, groups in (
        (PaymentStatus, (PAYMENT_OPEN, PAYMENT_IN_FLIGHT)),
        (PayoutStatus, (PAYOUT_RESERVED,)),
        (RefundStatus, (REFUND_PENDING,)),
    ):
        final = {s for s, targets in TRANSITIONS_BY_STATUS[statuses].items() if not targets}
        for group in groups:
            assert not final & set(group)
    assert not set(PAYOUT_SENT) & set(PAYOUT_RESERVED)


@pytest.mark.parametrize("status", PaymentStatus.values)
def test_the_database_allows_one_open_payment_per_pledge_by_the_same_tuple(slate, status):
    """The partial unique constraint is built from PAYMENT_OPEN: a second payment beside an
    open one is refused by the database exactly when its own status is open too."""
    first = _payment(slate, Payment.Status.REQUIRES_CAPTURE)
    if status in PAYMENT_OPEN:
        with pytest.raises(IntegrityError), transaction.atomic():
            _payment(slate, status, attempt=2, pledge=first.pledge)
    else:
        _payment(slate, status, attempt=2, pledge=first.pledge)


@pytest.mark.django_db(transaction=True)
def test_a_move_outside_the_rows_transaction_is_refused(slate):
    """Without the caller's transaction there is no row lock; the move is a bug."""
    payout = _payout(slate, Payout.Status.PENDING)
    with pytest.raises(RuntimeError):
        move_status(payout, Payout.Status.SENDING)


def _intent(status: str, **fields) -> PaymentIntentResult:
    return PaymentIntentResult(
        id=fields.pop("id", "pi_test_states"), status=status, amount_cents=1_000,
        amount_capturable_cents=0, amount_received_cents=fields.pop("received", 0),
        currency="usd", client_secret=None, last_error_code=None, last_error_message=None,
        decline_code=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("payment_status", "intent_status"),
    [
        # A late or repeated answer finds the payment moved on: its table has no such move.
        (PaymentStatus.CAPTURING, "requires_capture"),
        (PaymentStatus.SUCCEEDED, "requires_capture"),
        (PaymentStatus.SUCCEEDED, "requires_action"),
        (PaymentStatus.SUCCEEDED, "canceled"),
        (PaymentStatus.REQUIRES_ACTION, "requires_payment_method"),
    ],
)
def test_an_answer_the_table_does_not_allow_changes_nothing(slate, payment_status, intent_status):
    payment = _payment(slate, payment_status)
    Payment.objects.filter(pk=payment.pk).update(payment_intent_id="pi_test_states")
    recorded = payments.record_payment_intent(
        payment_id=payment.pk, result=_intent(intent_status), let_go=False
    )
    assert recorded.status == payment_status
    payment.refresh_from_db()
    assert payment.status == payment_status


def test_every_intent_status_the_recorder_knows_has_one_handler():
    live = {"requires_capture", "requires_action", "requires_payment_method"}
    assert live | {"succeeded", "canceled", "requires_confirmation"} == set(
        payments.ON_INTENT_STATUS
    )
    assert set(payments.ON_INTENT_STATUS) >= payments.LIVE_INTENT_STATUSES
