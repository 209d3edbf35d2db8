"""Row locks for money steps, always in one order: slate (shared), pledge, payment."""

from pledges.models import Pledge
from slate import services as slate_services

from .models import Payment


def lock_pledge(pledge_id: int, slate_id: int | None = None) -> Pledge:
    """Slate (shared) then pledge: the same order as pledges.services.transition_pledge."""
    if slate_id is None:
        slate_id = Pledge.objects.values_list("slate_id", flat=True).get(pk=pledge_id)
    slate_services.lock_slate_shared(slate_id)
    return Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge_id)


def lock_payment(
    payment_id: int, *, pledge_id: int | None = None, slate_id: int | None = None
) -> tuple[Pledge, Payment]:
    """Slate (shared), pledge, then payment. ``pledge_id`` and ``slate_id``, when the caller
    knows them (they never change for a payment), save the query that looks them up."""
    if pledge_id is None or slate_id is None:
        pledge_id, slate_id = Payment.objects.values_list("pledge_id", "pledge__slate_id").get(
            pk=payment_id
        )
    pledge = lock_pledge(pledge_id, slate_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.pledge = pledge  # the locked row, so ``payment.pledge`` costs no further query
    return pledge, payment
