"""Finds money work that a killed worker or a lost broker message left unfinished, and
finishes it. Every step it takes is one the normal path would take, so running it while the
normal path is also running is harmless."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pledges.models import Pledge
from pledges.states import PledgeKind
from slate.models import Slate
from slate.states import SlateState

from . import notifications, services, stripe_gateway, webhooks
from .models import Payment, Payout, Refund

logger = logging.getLogger(__name__)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.SLATE_PAYMENT_STALE_SECONDS)


def resume_payment(payment: Payment) -> Payment:
    """Finish one in-flight payment from what Stripe says happened."""
    if payment.payment_intent_id is None:
        # The create call may or may not have reached Stripe: look for its intent there
        # before sending it again (and never again for a pledge no longer live).
        return services.settle_unknown_create(payment_id=payment.pk, final=True)
    result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    if payment.status == Payment.Status.CAPTURING and result.status == "requires_capture":
        return services.capture_payment(payment_id=payment.pk)
    if payment.status == Payment.Status.CANCELING and result.status not in (
        "canceled",
        "succeeded",
    ):
        return services.cancel_payment(payment_id=payment.pk, purpose=payment.cancel_purpose)
    return services.record_payment_intent(payment_id=payment.pk, result=result)


def sweep(now=None) -> dict[str, int]:
    from . import tasks

    now = now or timezone.now()
    cutoff = now - stale_after()
    counts = {"payments": 0, "releases": 0, "voids": 0, "failed": 0, "webhooks": 0}
    # Stripe events whose task was lost or failed, oldest first, before anything is paid out:
    # a refund or dispute they report comes off what candidates are owed.
    for event_row_id in webhooks.unprocessed_event_ids(untouched_since=cutoff):
        try:
            counts["webhooks"] += webhooks.process_event(event_row_id=event_row_id)
        except Exception:
            logger.exception("could not process webhook event %s; next sweep tries again",
                             event_row_id)  # fmt: skip
    if notifications.failing_webhook_events_to_alert(
        min_attempts=settings.SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS
    ):
        tasks.alert_failing_webhook_events.delay()
    stuck = Payment.objects.filter(status__in=Payment.IN_FLIGHT, updated_at__lte=cutoff)
    for payment in stuck.order_by("pk")[:1000]:
        try:
            resume_payment(payment)
            counts["payments"] += 1
        except Exception:
            logger.exception("could not resume payment %s; next sweep tries again", payment.pk)
    # A release whose first task was lost never left "locked".
    for slate_id in Slate.objects.filter(
        state=SlateState.LOCKED, locked_at__lte=cutoff
    ).values_list("pk", flat=True):
        tasks.release_slate.delay(slate_id)
        counts["releases"] += 1
    # A release whose chunk tasks were lost: walk again; settled pledges are skipped, so this
    # only queues what is left.
    for slate_id in Slate.objects.filter(state=SlateState.RELEASING).values_list("pk", flat=True):
        walking = Payment.objects.filter(
            pledge__slate_id=slate_id, status__in=Payment.IN_FLIGHT, updated_at__gt=cutoff
        ).exists()
        if walking:
            continue  # a walk is under way; a second one would only double the request rate
        tasks.walk_release.delay(slate_id)
        counts["releases"] += 1
    expired_with_holds = (
        services.pledges_with_holds_to_void(
            Pledge.objects.filter(slate__state=SlateState.EXPIRED, kind=PledgeKind.MONEY)
        )
        .values_list("slate_id", flat=True)
        .distinct()
    )
    for slate_id in expired_with_holds:
        tasks.void_expired_slate_holds.delay(slate_id)
        counts["voids"] += 1
    counts["failed"] = services.fail_overdue_needs_action(now=now)
    # Payouts: resend any left "sending" by a crash (same idempotency key), and pay what
    # captures since the last run made payable.
    # Judged by when sending started, not by when the payout was created: a payout scheduled
    # (or failed and sent again) long ago may be in a worker's hands right now, and a second
    # request with its key while the first is still in flight is not what a retry is for.
    stuck_payouts = Payout.objects.filter(status=Payout.Status.SENDING).filter(
        Q(sending_started_at__lte=cutoff)
        | Q(sending_started_at__isnull=True, created_at__lte=cutoff)  # sent before it was kept
    )
    for payout_id in stuck_payouts.values_list("pk", flat=True):
        try:
            send_payout_resume(payout_id)
        except Exception:
            logger.exception("could not resume payout %s; next sweep tries again", payout_id)
        counts["payouts"] = counts.get("payouts", 0) + 1
    from .refunds import send_refund

    for refund_id in Refund.objects.filter(
        status=Refund.Status.CREATING, created_at__lte=cutoff
    ).values_list("pk", flat=True):
        try:
            send_refund(refund_id=refund_id)
        except Exception:
            logger.exception("could not resume refund %s; next sweep tries again", refund_id)
    for slate_id in Slate.objects.filter(
        state__in=[SlateState.RELEASING, SlateState.RELEASED]
    ).values_list("pk", flat=True):
        tasks.pay_candidates.delay(slate_id)
    # A deleted supporter's cards whose detach task was lost.
    for user_id in services.user_ids_with_cards_to_forget(deleted_before=cutoff):
        tasks.forget_saved_cards.delay(user_id)
        counts["cards"] = counts.get("cards", 0) + 1
    # Supporters not yet told that their slate charged them or voided their pledge.
    for slate_id, kind in notifications.slates_with_untold_supporters(changed_before=cutoff):
        tasks.tell_supporters.delay(slate_id, kind)
        counts["supporter_notices"] = counts.get("supporter_notices", 0) + 1
    # A payout notice whose task was lost: the candidate is still told, once.
    for payout_id in notifications.payout_ids_not_notified(sent_before=cutoff):
        tasks.notify_payout.delay(payout_id)
        counts["notices"] = counts.get("notices", 0) + 1
    # An automatic refund of unwanted money whose notice task was lost: still told, once.
    for refund_id in notifications.unwanted_refund_ids_not_notified(refunded_before=cutoff):
        tasks.notify_unwanted_payment_refunded.delay(refund_id)
        counts["notices"] = counts.get("notices", 0) + 1
    return counts


def send_payout_resume(payout_id: int) -> None:
    """A payout stuck in ``sending``: send it again as it is, same amount and idempotency
    key (Stripe answers with the transfer it already made). It never goes back to pending,
    where its amount could change under a key Stripe may already have acted on."""
    from .payouts import send_payout

    send_payout(payout_id=payout_id)
