"""The money rows' statuses: for Payment, Payout and Refund one table of allowed moves each,
one function that applies them (``move_status``), and the status groups the code and the
database constraints are built from. Same form as ``slate.states`` and ``pledges.states``.

Every status change of a money row goes through ``move_status``, in the transaction that
holds the row's lock (and writes the ledger entries of the step, where it has any).
"""

from django.db import models, transaction

from .errors import EscrowError


class PaymentStatus(models.TextChoices):
    CREATING = "creating", "Creating"  # row written; Stripe call not known to succeed
    REQUIRES_CAPTURE = "requires_capture", "Held"
    CAPTURING = "capturing", "Capturing"  # capture sent; result not yet recorded
    SUCCEEDED = "succeeded", "Captured"
    REQUIRES_ACTION = "requires_action", "Needs the supporter"
    CANCELING = "canceling", "Canceling"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    PAID = "paid", "Paid"
    RECORDED = "recorded", "Recorded for the treasurer"
    FAILED = "failed", "Failed"
    # Refunds taken since it was scheduled left nothing to send (see payouts.send_payout).
    CANCELED = "canceled", "Canceled: nothing left owed"


class RefundStatus(models.TextChoices):
    CREATING = "creating", "Creating"  # row written; Stripe call not known to succeed
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


P = PaymentStatus

PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    # The create's answer (held, paid, needs the supporter, refused for good), a cancel
    # before the answer came, or never sent again (its pledge ended meanwhile).
    P.CREATING: frozenset(
        {P.REQUIRES_CAPTURE, P.SUCCEEDED, P.REQUIRES_ACTION, P.CANCELING, P.CANCELED, P.FAILED}
    ),
    P.REQUIRES_CAPTURE: frozenset(
        {P.CAPTURING, P.SUCCEEDED, P.REQUIRES_ACTION, P.CANCELING, P.CANCELED}
    ),
    # The capture's answer; or the hold was let go at Stripe meanwhile, or its pledge ended.
    P.CAPTURING: frozenset({P.SUCCEEDED, P.REQUIRES_ACTION, P.CANCELING, P.CANCELED}),
    # The supporter completed it (held or paid), or it is let go.
    P.REQUIRES_ACTION: frozenset({P.REQUIRES_CAPTURE, P.SUCCEEDED, P.CANCELING, P.CANCELED}),
    # The cancel's answer: canceled, or paid a moment before it arrived.
    P.CANCELING: frozenset({P.CANCELED, P.SUCCEEDED}),
    # Stripe took money for a payment we had given up: booked as owed back and refunded.
    P.CANCELED: frozenset({P.SUCCEEDED}),
    # The same; or an intent of a refused create turned up at Stripe and was cancelled.
    P.FAILED: frozenset({P.SUCCEEDED, P.CANCELED}),
    # Captured money leaves only through refunds (Refund rows), never by a status change.
    P.SUCCEEDED: frozenset(),
}

# A Stripe step was sent and its outcome is not recorded: the sweeper finishes these.
PAYMENT_IN_FLIGHT = (P.CREATING, P.CAPTURING, P.CANCELING)
# A payment that holds, or may still hold, the supporter's card: at most one per pledge (the
# ``payment_one_open_per_pledge`` constraint is built from this tuple; its order is the
# migration's).
PAYMENT_OPEN = (P.CREATING, P.REQUIRES_CAPTURE, P.CAPTURING, P.REQUIRES_ACTION, P.CANCELING)

T = PayoutStatus

PAYOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    # Sent (its amount fixed), or refunds since it was scheduled left nothing owed.
    T.PENDING: frozenset({T.SENDING, T.CANCELED}),
    # Transferred (Stripe Connect), recorded for the treasurer, or refused for good.
    T.SENDING: frozenset({T.PAID, T.RECORDED, T.FAILED}),
    # Staff fixed the cause and send it again, as a new attempt.
    T.FAILED: frozenset({T.PENDING}),
    T.PAID: frozenset(),
    T.RECORDED: frozenset(),
    T.CANCELED: frozenset(),
}

# Money set aside for a payout not yet posted as paid: a failed one keeps its amount until it
# is sent again.
PAYOUT_RESERVED = (T.PENDING, T.SENDING, T.FAILED)
# Posted: the money left (a transfer) or is the treasurer's to send (recorded).
PAYOUT_SENT = (T.PAID, T.RECORDED)

R = RefundStatus

REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    R.CREATING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
}

# Asked of Stripe and not yet posted: its amount is reserved against what candidates are owed.
REFUND_PENDING = (R.CREATING,)

TRANSITIONS_BY_STATUS: dict[type[models.TextChoices], dict[str, frozenset[str]]] = {
    PaymentStatus: PAYMENT_TRANSITIONS,
    PayoutStatus: PAYOUT_TRANSITIONS,
    RefundStatus: REFUND_TRANSITIONS,
}


class InvalidMove(EscrowError):
    """A money row asked to move where its table does not allow."""


def move_allowed(statuses: type[models.TextChoices], from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS_BY_STATUS[statuses].get(from_status, frozenset())


def move_status(row, to_status: str) -> None:
    """Move a Payment, Payout or Refund ``row`` (locked by the caller, in its open
    transaction) to ``to_status`` if its table allows it; the caller saves the row with the
    other fields the step changes. ``InvalidMove`` otherwise, before anything is written."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("move_status needs the caller's locking transaction")
    statuses = type(row).Status
    if not move_allowed(statuses, row.status, to_status):
        raise InvalidMove(
            "invalid_transition",
            f"{type(row).__name__} {row.pk} cannot move from {row.status} to {to_status}.",
        )
    row.status = to_status
