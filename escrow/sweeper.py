"""Finds money work that a killed worker or a lost broker message left unfinished, and
finishes it. Every step it takes is one the normal path would take, so running it while the
normal path is also running is harmless. Each kind of leftover has one job below; ``sweep``
runs them in order. It runs outside any transaction and queues tasks at once, by their
registered names (``slate.queue.registered_task``), so this module needs nothing from ``tasks``."""

import logging
from collections import Counter

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pledges.models import Pledge
from pledges.states import PledgeKind
from slate.models import Slate
from slate.queue import registered_task
from slate.states import SlateState

from . import notifications, stripe_gateway, webhooks
from .holds import cancel_payment, capture_payment, payment_stale_after, settle_unknown_create
from .models import Payment, Payout, Refund
from .needs_action import fail_overdue_needs_action
from .payments import record_payment_intent
from .payouts import send_payout
from .refunds import send_refund
from .selectors import pledges_with_holds_to_void

logger = logging.getLogger(__name__)


def resume_payment(payment: Payment) -> Payment:
    """Finish one in-flight payment from what Stripe says happened."""
    if payment.payment_intent_id is None:
        # The create call may or may not have reached Stripe: look for its intent there
        # before sending it again (and never again for a pledge no longer live).
        return settle_unknown_create(payment_id=payment.pk, final=True)
    result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    if payment.status == Payment.Status.CAPTURING and result.status == "requires_capture":
        return capture_payment(payment_id=payment.pk)
    if payment.status == Payment.Status.CANCELING and result.status not in (
        "canceled",
        "succeeded",
    ):
        return cancel_payment(payment_id=payment.pk, purpose=payment.cancel_purpose)
    return record_payment_intent(payment_id=payment.pk, result=result)


def process_lost_webhook_events(cutoff) -> int:
    """Stripe events whose task was lost or failed, oldest first; staff are told about those
    that keep failing. Runs before anything is paid out: a refund or dispute they report
    comes off what candidates are owed."""
    processed = 0
    for event_row_id in webhooks.unprocessed_event_ids(untouched_since=cutoff):
        try:
            processed += webhooks.process_event(event_row_id=event_row_id)
        except Exception:
            logger.exception("could not process webhook event %s; next sweep tries again",
                             event_row_id)  # fmt: skip
    if notifications.failing_webhook_events_to_alert(
        min_attempts=settings.SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS
    ):
        registered_task("escrow.tasks.alert_failing_webhook_events").delay()
    return processed


def resume_stuck_payments(cutoff) -> int:
    """Payments left in flight (creating, capturing, canceling) by a crash."""
    resumed = 0
    stuck = Payment.objects.filter(status__in=Payment.IN_FLIGHT, updated_at__lte=cutoff)
    for payment in stuck.order_by("pk")[:1000]:
        try:
            resume_payment(payment)
            resumed += 1
        except Exception:
            logger.exception("could not resume payment %s; next sweep tries again", payment.pk)
    return resumed


def restart_lost_releases(cutoff) -> int:
    """A release whose first task was lost never left "locked"; one whose chunk tasks were
    lost is walked again (settled pledges are skipped, so this only queues what is left)."""
    restarted = 0
    for slate_id in Slate.objects.filter(
        state=SlateState.LOCKED, locked_at__lte=cutoff
    ).values_list("pk", flat=True):
        registered_task("escrow.tasks.release_slate").delay(slate_id)
        restarted += 1
    for slate_id in Slate.objects.filter(state=SlateState.RELEASING).values_list("pk", flat=True):
        walking = Payment.objects.filter(
            pledge__slate_id=slate_id, status__in=Payment.IN_FLIGHT, updated_at__gt=cutoff
        ).exists()
        if walking:
            continue  # a walk is under way; a second one would only double the request rate
        registered_task("escrow.tasks.walk_release").delay(slate_id)
        restarted += 1
    return restarted


def restart_lost_voids() -> int:
    """Expired slates with a pledge whose hold is still to be let go."""
    expired_with_holds = (
        pledges_with_holds_to_void(
            Pledge.objects.filter(slate__state=SlateState.EXPIRED, kind=PledgeKind.MONEY)
        )
        .values_list("slate_id", flat=True)
        .distinct()
    )
    restarted = 0
    for slate_id in expired_with_holds:
        registered_task("escrow.tasks.void_expired_slate_holds").delay(slate_id)
        restarted += 1
    return restarted


def resume_stuck_payouts(cutoff) -> int:
    """Payouts left "sending" by a crash, sent again as they are (same idempotency key).
    Judged by when sending started, not by when the payout was created: a payout scheduled
    (or failed and sent again) long ago may be in a worker's hands right now, and a second
    request with its key while the first is still in flight is not what a retry is for."""
    stuck_payouts = Payout.objects.filter(status=Payout.Status.SENDING).filter(
        Q(sending_started_at__lte=cutoff)
        | Q(sending_started_at__isnull=True, created_at__lte=cutoff)  # sent before it was kept
    )
    resumed = 0
    for payout_id in stuck_payouts.values_list("pk", flat=True):
        try:
            send_payout_resume(payout_id)
        except Exception:
            logger.exception("could not resume payout %s; next sweep tries again", payout_id)
        resumed += 1
    return resumed


def send_payout_resume(payout_id: int) -> None:
    """A payout stuck in ``sending``: send it again as it is, same amount and idempotency
    key (Stripe answers with the transfer it already made). It never goes back to pending,
    where its amount could change under a key Stripe may already have acted on."""
    send_payout(payout_id=payout_id)


def resume_stuck_refunds(cutoff) -> int:
    """Refunds left ``creating`` (their task lost, or Stripe unreachable)."""
    resumed = 0
    for refund_id in Refund.objects.filter(
        status=Refund.Status.CREATING, created_at__lte=cutoff
    ).values_list("pk", flat=True):
        try:
            send_refund(refund_id=refund_id)
            resumed += 1
        except Exception:
            logger.exception("could not resume refund %s; next sweep tries again", refund_id)
    return resumed


def pay_what_is_payable() -> int:
    """Pay what captures since the last run made payable, on every releasing or released
    slate (the task pays only what is still owed)."""
    queued = 0
    for slate_id in Slate.objects.filter(
        state__in=[SlateState.RELEASING, SlateState.RELEASED]
    ).values_list("pk", flat=True):
        registered_task("escrow.tasks.pay_candidates").delay(slate_id)
        queued += 1
    return queued


def tell_supporters_not_yet_told(cutoff) -> int:
    """Supporters not yet told that their slate charged them or voided their pledge."""
    untold = notifications.slates_with_untold_supporters(changed_before=cutoff)
    for slate_id, kind in untold:
        registered_task("escrow.tasks.tell_supporters").delay(slate_id, kind)
    return len(untold)


def send_lost_notices(cutoff) -> int:
    """A payout notice, or an unwanted payment's refund notice, whose task was lost: the
    candidate or supporter is still told, once."""
    payout_ids = notifications.payout_ids_not_notified(sent_before=cutoff)
    for payout_id in payout_ids:
        registered_task("escrow.tasks.notify_payout").delay(payout_id)
    refund_ids = notifications.unwanted_refund_ids_not_notified(refunded_before=cutoff)
    for refund_id in refund_ids:
        registered_task("escrow.tasks.notify_unwanted_payment_refunded").delay(refund_id)
    return len(payout_ids) + len(refund_ids)


def sweep(now=None) -> dict[str, int]:
    """Every job once, in an order that matters: events first (they may take money back from
    what is owed), payments before releases, payouts after both."""
    now = now or timezone.now()
    cutoff = now - payment_stale_after()
    counts: Counter[str] = Counter()
    counts["webhooks"] = process_lost_webhook_events(cutoff)
    counts["payments"] = resume_stuck_payments(cutoff)
    counts["releases"] = restart_lost_releases(cutoff)
    counts["voids"] = restart_lost_voids()
    counts["failed"] = fail_overdue_needs_action(now=now)
    counts["payouts"] = resume_stuck_payouts(cutoff)
    counts["refunds"] = resume_stuck_refunds(cutoff)
    pay_what_is_payable()
    counts["supporter_notices"] = tell_supporters_not_yet_told(cutoff)
    counts["notices"] = send_lost_notices(cutoff)
    return dict(counts)
