"""The release after the lock: ``locked -> releasing``, each money pledge settled (voided,
captured or charged), then ``releasing -> released`` once nothing is left in flight."""

import logging
import threading
from collections.abc import Callable

from django.db import connection, transaction

from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate import lifecycle as slate_lifecycle
from slate import services as slate_services
from slate.states import SlateState

from .errors import EscrowError, NothingCapturable
from .holds import authorize_pledge, capture_payment
from .models import CardSetup, Payment
from .selectors import (
    UNSETTLED_AT_RELEASE,
    open_payment,
    payments_in_flight,
    unsettled_money_pledges,
)
from .splits import ReleaseContext, signed_candidate_ids
from .voiding import void_pledge

logger = logging.getLogger(__name__)


def start_release(*, slate_id: int) -> bool:
    """``locked -> releasing``, once; the caller then walks the pledges in chunks."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        if slate.state != SlateState.LOCKED:
            return slate.state == SlateState.RELEASING
        slate_lifecycle.transition_slate(
            slate=slate, to_state=SlateState.RELEASING, actor=None, reason="release started"
        )
    return True


def conditions_hold(
    pledge: Pledge, signed_ids: list[int], required_ids: set[int] | None = None
) -> bool:
    if pledge.condition_min_signatures and len(signed_ids) < pledge.condition_min_signatures:
        return False
    if required_ids is None:
        required_ids = set(pledge.condition_required_candidates.values_list("id", flat=True))
    return required_ids <= set(signed_ids)


def release_pledge(*, pledge_id: int, context: ReleaseContext | None = None) -> str:
    """Settle one pledge of a releasing slate: void it (no card, or its own conditions
    failed), capture its hold, or charge its saved card. Safe to run again at any point.
    ``context``: the chunk's shared reads (``splits.release_context``), if it covers this
    pledge."""
    if context is not None and pledge_id not in context.pledges:
        context = None
    if context is None:
        pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
        required_ids = None
        payment = open_payment(pledge)
    else:
        pledge = context.pledges[pledge_id]
        required_ids = context.required_ids.get(pledge_id, set())
        payment = context.open_payments.get(pledge_id)
    if pledge.kind != PledgeKind.MONEY or pledge.state not in UNSETTLED_AT_RELEASE:
        return pledge.state
    if pledge.state == PledgeState.PENDING_CARD:
        return void_pledge(pledge_id=pledge_id, reason="no card was saved before the lock").state
    signed_ids = signed_candidate_ids(pledge.slate) if context is None else context.signed_ids
    if not conditions_hold(pledge, signed_ids, required_ids):
        return void_pledge(
            pledge_id=pledge_id, reason="the pledge's own conditions were not met"
        ).state
    try:
        if pledge.state == PledgeState.AUTHORIZED and payment is not None:
            try:
                return capture_payment(
                    payment_id=payment.pk, pledge_id=pledge_id, context=context
                ).status
            except NothingCapturable:
                raise
            except EscrowError as exc:
                logger.info("pledge %s not captured: %s", pledge_id, exc.message)
                return pledge.state
        if pledge.state == PledgeState.COMMITTED:
            has_card = (
                pledge.card_setups.filter(status=CardSetup.Status.SUCCEEDED).exists()
                if context is None
                else pledge_id in context.with_card
            )
            if not has_card:
                return void_pledge(pledge_id=pledge_id, reason="no saved card at the lock").state
            payment = authorize_pledge(
                pledge_id=pledge_id, purpose=Payment.Purpose.CHARGE, context=context
            )
            return payment.status if payment else pledge.state
    except NothingCapturable as exc:
        return void_pledge(pledge_id=pledge_id, reason=exc.message).state
    return pledge.state


def release_pledges(
    *,
    pledge_ids: list[int],
    context: ReleaseContext | None,
    before_each: Callable[[], None],
    threads: int,
) -> None:
    """Settle ``pledge_ids`` (one chunk) with up to ``threads`` of them in their Stripe call
    at once. Each pledge still goes through ``release_pledge`` alone: its two short locked
    transactions around its one Stripe call, the same keys, the same states the sweeper
    reads; only how many pledges wait on Stripe side by side changes. ``before_each`` (the
    shared rate limiter's wait) runs before every pledge, in the thread that settles it, so
    every thread of every worker takes its slots from the one rate.

    Each thread has its own database connection (Django's are per thread), closed when the
    thread ends. Inside an open transaction (an eager task in a test) the chunk is settled in
    the caller's thread: other connections would not see its uncommitted rows."""
    threads = max(1, min(threads, len(pledge_ids)))
    if threads == 1 or connection.in_atomic_block:
        for pledge_id in pledge_ids:
            _settle_one(pledge_id, context, before_each)
        return
    remaining = iter(pledge_ids)
    take = threading.Lock()

    def lane() -> None:
        try:
            while True:
                with take:
                    pledge_id = next(remaining, None)
                if pledge_id is None:
                    return
                _settle_one(pledge_id, context, before_each)
        finally:
            connection.close()  # this thread's own connection

    lanes = [
        threading.Thread(target=lane, name=f"release-{index}", daemon=True)
        for index in range(threads)
    ]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()


def _settle_one(pledge_id: int, context: ReleaseContext | None, before_each) -> None:
    try:
        before_each()
        release_pledge(pledge_id=pledge_id, context=context)
    except Exception:
        # One pledge's trouble must not hold up the others: it stays unsettled, the slate
        # stays "releasing", and the sweeper walks the slate again later.
        logger.exception("pledge %s not settled in this pass", pledge_id)


def finish_release_if_done(*, slate_id: int) -> bool:
    """``releasing -> released`` once every money pledge is final and nothing is in flight."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        if slate.state != SlateState.RELEASING:
            return slate.state == SlateState.RELEASED
        if unsettled_money_pledges(slate_id).exists() or payments_in_flight(slate_id):
            return False
        slate_lifecycle.transition_slate(
            slate=slate, to_state=SlateState.RELEASED, actor=None, reason="every pledge settled"
        )
    return True
