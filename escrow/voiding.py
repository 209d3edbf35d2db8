"""Pledges that will never be charged: the supporter's cancel before the lock, and voids
(the slate expired, or the pledge's own conditions failed at the lock)."""

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeState

from .errors import EscrowError
from .holds import cancel_payment
from .payments import CancelPurpose
from .selectors import open_payment

VOIDABLE = (PledgeState.PENDING_CARD, PledgeState.COMMITTED, PledgeState.NEEDS_ACTION)


def cancel_pledge(*, pledge: Pledge, actor, reason: str = "") -> Pledge:
    """The supporter cancels before the lock; any hold on their card is released first."""
    if not actor.is_authenticated or (actor.pk != pledge.supporter_id and not actor.is_staff):
        raise EscrowError("forbidden", "You can cancel only your own pledges.")
    payment = open_payment(pledge)
    if payment is not None:  # a hold, or one being placed: let it go first
        cancel_payment(payment_id=payment.pk, purpose=CancelPurpose.SUPPORTER)
        pledge.refresh_from_db()
        if pledge.state == PledgeState.CANCELLED:
            return pledge
    try:
        return pledge_services.cancel_pledge(pledge=pledge, actor=actor, reason=reason)
    except pledge_services.PledgeError as exc:
        raise EscrowError(exc.code, exc.message, field=exc.field) from None


def void_pledge(*, pledge_id: int, reason: str) -> Pledge:
    """Void a pledge that will never be charged: release its hold, then mark it voided."""
    pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
    payment = open_payment(pledge)
    if payment is not None:
        cancel_payment(payment_id=payment.pk, purpose=CancelPurpose.VOID, reason=reason)
        pledge.refresh_from_db()
    if pledge.state in VOIDABLE:
        pledge = pledge_services.transition_pledge(
            pledge=pledge, to_state=PledgeState.VOIDED, reason=reason, expected_states=VOIDABLE
        )
    return pledge
