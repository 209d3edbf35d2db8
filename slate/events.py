"""Events the Slate aggregate announces to the apps above it.

Sent by ``lifecycle.dispatch_transition`` inside a transaction, at least once per transition
(a crash between commit and dispatch means the sweeper sends it again later), so every
receiver must be idempotent. Keyword arguments: ``slate_id``, ``transition_id``,
``from_state``, ``to_state``.
"""

from django.dispatch import Signal

slate_state_changed = Signal()
slate_opened = Signal()
slate_locked = Signal()
slate_expired = Signal()
slate_voided = Signal()
slate_released = Signal()
# Not a lifecycle change: an open slate's deadline moved later. Keyword arguments: ``slate_id``,
# ``extension_id`` (a DeadlineExtension). Also at least once.
slate_deadline_extended = Signal()

SIGNAL_BY_STATE = {
    "open": slate_opened,
    "locked": slate_locked,
    "expired": slate_expired,
    "voided": slate_voided,
    "released": slate_released,
}

# Announced by the apps above the Slate aggregate, inside the transaction that made the change
# (receivers defer their work with transaction.on_commit). Keyword arguments:
# pledge_counted: ``pledge_id``, ``slate_id`` (a pledge began counting toward the totals);
# signature_changed: ``signature_id``, ``slate_id``, ``signed`` (False: withdrawn).
pledge_counted = Signal()
signature_changed = Signal()
