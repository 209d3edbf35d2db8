"""Pledge states and the one table of allowed transitions per kind of pledge."""

from django.db import models


class PledgeKind(models.TextChoices):
    MONEY = "money", "Money"
    VOLUNTEER = "volunteer", "Volunteer hours"
    SIGNON = "signon", "Sign-on"


class PledgeState(models.TextChoices):
    PENDING_CARD = "pending_card", "Waiting for card"
    COMMITTED = "committed", "Committed"
    AUTHORIZED = "authorized", "Authorized (held)"
    CAPTURED = "captured", "Captured"
    PAID_OUT = "paid_out", "Paid out"
    NEEDS_ACTION = "needs_action", "Needs action"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    VOIDED = "voided", "Voided"
    REFUNDED = "refunded", "Refunded"


S = PledgeState

MONEY_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_CARD: frozenset({S.COMMITTED, S.CANCELLED, S.VOIDED}),
    S.COMMITTED: frozenset({S.AUTHORIZED, S.CAPTURED, S.NEEDS_ACTION, S.CANCELLED, S.VOIDED}),
    # authorized -> committed: a hold lapsed or was dropped before the lock; the saved card stays.
    S.AUTHORIZED: frozenset({S.CAPTURED, S.COMMITTED, S.NEEDS_ACTION, S.CANCELLED, S.VOIDED}),
    S.NEEDS_ACTION: frozenset({S.AUTHORIZED, S.CAPTURED, S.FAILED, S.CANCELLED, S.VOIDED}),
    S.CAPTURED: frozenset({S.PAID_OUT, S.REFUNDED}),
    S.PAID_OUT: frozenset({S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.VOIDED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Volunteer hours and sign-ons hold no money: they are live until cancelled or voided.
NON_MONEY_TRANSITIONS: dict[str, frozenset[str]] = {
    S.COMMITTED: frozenset({S.CANCELLED, S.VOIDED}),
    S.CANCELLED: frozenset(),
    S.VOIDED: frozenset(),
}

TRANSITIONS_BY_KIND = {
    PledgeKind.MONEY: MONEY_TRANSITIONS,
    PledgeKind.VOLUNTEER: NON_MONEY_TRANSITIONS,
    PledgeKind.SIGNON: NON_MONEY_TRANSITIONS,
}

INITIAL_STATE_BY_KIND = {
    PledgeKind.MONEY: S.PENDING_CARD,
    PledgeKind.VOLUNTEER: S.COMMITTED,
    PledgeKind.SIGNON: S.COMMITTED,
}

# Live pledges count toward a slate's totals and its threshold.
LIVE_MONEY_STATES = frozenset({S.COMMITTED, S.AUTHORIZED, S.NEEDS_ACTION, S.CAPTURED, S.PAID_OUT})
LIVE_NON_MONEY_STATES = frozenset({S.COMMITTED})
# Money pledges that may still charge the supporter's saved card.
UNSETTLED_MONEY_STATES = frozenset({S.PENDING_CARD, S.COMMITTED, S.AUTHORIZED, S.NEEDS_ACTION})
FINAL_STATES = frozenset({S.FAILED, S.CANCELLED, S.VOIDED, S.REFUNDED, S.PAID_OUT})
# States a supporter may cancel from through pledges.services: no Stripe hold exists yet.
# Cancelling a held pledge releases the hold first, which is the escrow app's service.
CANCELLABLE_WITHOUT_HOLD = frozenset({S.PENDING_CARD, S.COMMITTED})


def pledge_transition_allowed(kind: str, from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS_BY_KIND[kind].get(from_state, frozenset())


def is_live(kind: str, state: str) -> bool:
    live = LIVE_MONEY_STATES if kind == PledgeKind.MONEY else LIVE_NON_MONEY_STATES
    return state in live
