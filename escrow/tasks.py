"""Thin Celery wrappers around escrow services; each is safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import mail_admins
from django.db import OperationalError
from django.utils import timezone

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeKind
from slate.models import Slate
from slate.states import SlateState
from slate.templatetags.money import dollars

from . import (
    cards,
    fees,
    holds,
    needs_action,
    notifications,
    payouts,
    refunds,
    release,
    selectors,
    splits,
    stripe_gateway,
    sweeper,
    voiding,
    webhooks,
)
from .errors import EscrowError
from .models import Payment, Payout
from .ratelimit import RateLimiter, limiter_for
from .reconcile import orphan_charge_report, reconcile_slate

logger = logging.getLogger(__name__)
RETRY = {"bind": True, "max_retries": 10, "acks_late": True}
# Email steps: Celery retries a mail server error (smtplib's errors are OSErrors) or a lost
# database connection with backoff; each step marks its notice only once its mail went out.
MAIL = {
    "max_retries": 10, "acks_late": True, "autoretry_for": (OperationalError, OSError),
    "retry_backoff": True, "retry_backoff_max": 60,
}  # fmt: skip
# One key for the whole Stripe account: its rate limit counts every request we make.
RATE_LIMIT_KEY = "slate:stripe-requests"


def stripe_rate_limiter() -> RateLimiter:
    """The limiter for the current settings (tests and the benchmark change them at run time)."""
    return limiter_for(
        float(settings.SLATE_STRIPE_REQUESTS_PER_SECOND),
        redis_url=settings.SLATE_RATE_LIMIT_REDIS_URL,
        key=RATE_LIMIT_KEY,
    )


def _retry_transient(task, exc: Exception):
    retryable = isinstance(exc, OperationalError) or (
        isinstance(exc, stripe_gateway.GatewayError) and exc.retryable
    )
    if not retryable:
        raise exc
    raise task.retry(exc=exc, countdown=min(60, 2**task.request.retries))


@shared_task(**RETRY)
def release_slate(self, slate_id: int) -> None:
    """On ``slate_locked``: move to releasing and start walking the pledges."""
    try:
        if release.start_release(slate_id=slate_id):
            walk_release.delay(slate_id)
    except Exception as exc:
        _retry_transient(self, exc)


@shared_task(**RETRY)
def walk_release(self, slate_id: int) -> int:
    """Fan the slate's unsettled pledges out as chunk tasks that any number of workers settle
    side by side (the shared rate limit keeps them together under Stripe's rate). Running it
    again (a retry, or the sweeper after a lost message) only queues what is still unsettled."""
    try:
        bounds = selectors.release_chunk_bounds(
            slate_id=slate_id, size=settings.SLATE_RELEASE_CHUNK_SIZE
        )
    except Exception as exc:
        _retry_transient(self, exc)
    for after_pledge_id, upto_pledge_id in bounds:
        release_chunk.delay(slate_id, after_pledge_id, upto_pledge_id)
    if not bounds:
        _after_walk(slate_id)
    return len(bounds)


@shared_task(**RETRY)
def release_chunk(
    self, slate_id: int, after_pledge_id: int, upto_pledge_id: int | None = None
) -> int:
    """Settle the pledges in ``(after_pledge_id, upto_pledge_id]``. Without an upper bound
    (messages queued before the fan-out existed) settle one chunk and chain the next."""
    chunk_size = settings.SLATE_RELEASE_CHUNK_SIZE
    try:
        ids = selectors.release_chunk_ids(
            slate_id=slate_id, after_pledge_id=after_pledge_id, limit=chunk_size,
            upto_pledge_id=upto_pledge_id,
        )  # fmt: skip
        # What every pledge of the chunk would read alike, read once.
        context = splits.release_context(slate_id=slate_id, pledge_ids=ids)
    except Exception as exc:
        _retry_transient(self, exc)
    # Up to SLATE_RELEASE_THREADS pledges in their Stripe call at once, each thread taking
    # its slots from the one shared rate limit.
    release.release_pledges(
        pledge_ids=ids, context=context, before_each=stripe_rate_limiter().wait,
        threads=settings.SLATE_RELEASE_THREADS,
    )  # fmt: skip
    if upto_pledge_id is None and len(ids) == chunk_size:
        release_chunk.delay(slate_id, ids[-1])
    else:
        _after_walk(slate_id)
    return len(ids)


def _after_walk(slate_id: int) -> None:
    """Each chunk ends here; whichever finds the walk done starts the payouts (two chunks
    finishing together may both do so: scheduling payouts takes the slate lock and pays only
    what is still owed)."""
    released = release.finish_release_if_done(slate_id=slate_id)
    if released or selectors.release_walk_finished(slate_id=slate_id):
        pay_candidates.delay(slate_id)


@shared_task(**RETRY)
def void_expired_slate_holds(self, slate_id: int) -> int:
    """On ``slate_expired``: release every hold and void its pledge (the pledges app voids
    the pledges that hold nothing)."""
    ids = list(
        selectors.pledges_with_holds_to_void(
            Pledge.objects.filter(slate_id=slate_id, kind=PledgeKind.MONEY)
        ).values_list("pk", flat=True)
    )
    for pledge_id in ids:
        stripe_rate_limiter().wait()
        try:
            voiding.void_pledge(pledge_id=pledge_id, reason="slate expired before its threshold")
        except Exception:
            logger.exception("pledge %s not voided in this pass; the sweeper retries", pledge_id)
    pledge_services.finish_voiding_if_done(slate_id=slate_id)
    return len(ids)


@shared_task(**RETRY)
def process_webhook_event(self, event_row_id: int) -> bool:
    try:
        return webhooks.process_event(event_row_id=event_row_id)
    except Exception as exc:
        _retry_transient(self, exc)


@shared_task(**MAIL)
def alert_failing_webhook_events() -> int:
    """Tell staff about Stripe events that keep failing (each event once)."""
    return notifications.alert_failing_webhook_events(
        min_attempts=settings.SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS
    )


@shared_task
def sweep_stranded_money() -> dict:
    """Beat: finish payments, releases and voids that a crash or a lost message left behind."""
    return sweeper.sweep()


@shared_task
def fail_overdue_needs_action() -> int:
    return needs_action.fail_overdue_needs_action()


@shared_task(**RETRY)
def pay_candidates(self, slate_id: int) -> int:
    """Schedule what each candidate is owed and send it; safe to run again at any time."""
    if slate_id in webhooks.slate_ids_awaiting_money_events():
        # A refund or dispute Stripe reported is not booked yet; the sweeper books it, then
        # calls this again (every minute) and pays what is still owed.
        logger.info("slate %s: payouts wait for a refund or dispute event to be booked", slate_id)
        return Payout.objects.filter(slate_id=slate_id).count()
    try:
        payouts.schedule_payouts(slate_id=slate_id)
        unsent = Payout.objects.filter(slate_id=slate_id, status=Payout.Status.PENDING)
        for payout_id in unsent.values_list("pk", flat=True):
            payouts.send_payout(payout_id=payout_id)
    except Exception as exc:
        _retry_transient(self, exc)
    return Payout.objects.filter(slate_id=slate_id).count()


@shared_task
def alert_payouts_near_due() -> int:
    """Beat: tell staff about payouts close to the conduit's 10-day forwarding limit."""
    flagged = payouts.flag_payouts_near_due()
    if flagged:
        lines = [
            f"payout {p.pk}: {p.candidate} {dollars(p.amount_cents)} due {p.due_at:%Y-%m-%d}"
            + (
                " (recorded: waiting for the treasurer's check or wire)"
                if p.status == "recorded"
                else ""
            )
            for p in flagged
        ]
        mail_admins("Payouts near the 10-day limit", "\n".join(lines), fail_silently=True)
    return len(flagged)


@shared_task(**MAIL)
def alert_payout_failed(payout_id: int) -> None:
    notifications.alert_payout_failed(payout_id=payout_id)


@shared_task(**MAIL)
def alert_refund_failed(refund_id: int) -> None:
    notifications.alert_refund_failed(refund_id=refund_id)


@shared_task
def place_and_renew_holds() -> dict:
    """Beat: hold the cards of slates whose deadline is near, and renew lapsing holds."""
    placed = renewed = 0
    limiter = stripe_rate_limiter()
    for payment_id in selectors.payment_ids_due_for_renewal():
        limiter.wait()
        try:
            holds.renew_hold(payment_id=payment_id)
            renewed += 1
        except (EscrowError, stripe_gateway.GatewayError) as exc:
            logger.warning("could not renew hold %s: %s", payment_id, exc)
    for pledge_id in selectors.pledge_ids_due_for_hold():
        limiter.wait()
        try:
            holds.authorize_pledge(pledge_id=pledge_id)
            placed += 1
        except (EscrowError, stripe_gateway.GatewayError) as exc:
            logger.warning("could not place a hold for pledge %s: %s", pledge_id, exc)
    return {"placed": placed, "renewed": renewed}


@shared_task
def book_stripe_fees() -> int:
    """Beat: book what Stripe kept as fees on captured payments (under the rate limit)."""
    booked = 0
    limiter = stripe_rate_limiter()
    for payment_id in selectors.payment_ids_with_unbooked_fees():
        limiter.wait()
        try:
            booked += fees.book_stripe_fee(payment_id=payment_id) is not None
        except stripe_gateway.GatewayError as exc:
            logger.warning("could not read the fee of payment %s: %s", payment_id, exc)
    return booked


@shared_task
def reconcile_with_stripe() -> int:
    """Nightly: compare the books with Stripe and tell staff about any difference."""
    report: list[str] = []
    for slate in Slate.objects.exclude(state=SlateState.DRAFT):
        report += [f"{slate.slug}: {line}" for line in reconcile_slate(slate)]
    # Stripe's side: two days of charges, so a night's run overlaps the one before.
    since = timezone.now() - timedelta(days=2)
    report += [f"stripe: {line}" for line in orphan_charge_report(since=since)]
    if report:
        logger.error("reconciliation found %d difference(s)", len(report))
        mail_admins("Stripe reconciliation differences", "\n".join(report), fail_silently=True)
    return len(report)


@shared_task(**RETRY)
def send_refund(self, refund_id: int) -> None:
    """Send a refund written in a transaction (an unwanted payment's); the sweeper resends
    any left ``creating``."""
    try:
        refunds.send_refund(refund_id=refund_id)
    except Exception as exc:
        _retry_transient(self, exc)


@shared_task(**MAIL)
def notify_unwanted_payment_refunded(refund_id: int) -> bool:
    return notifications.notify_unwanted_payment_refunded(refund_id=refund_id)


@shared_task(**MAIL)
def notify_needs_action(payment_id: int) -> bool:
    return notifications.notify_needs_action(payment_id=payment_id)


@shared_task(**MAIL)
def notify_payout(payout_id: int) -> bool:
    """Tell the candidate their payout went out."""
    return notifications.notify_payout(payout_id=payout_id)


@shared_task(**RETRY)
def forget_saved_cards(self, user_id: int) -> int:
    """After a supporter's data is deleted: detach their saved cards at Stripe."""
    try:
        return cards.forget_saved_cards(user_id=user_id)
    except Exception as exc:
        _retry_transient(self, exc)


@shared_task(**MAIL)
def alert_dispute(payment_id: int, dispute: dict) -> None:
    notifications.alert_dispute(payment_id=payment_id, dispute=dispute)


@shared_task
def remind_needs_action() -> int:
    """Beat: remind every supporter whose card still needs them (at most every 48 hours)."""
    ids = Payment.objects.filter(
        status=Payment.Status.REQUIRES_ACTION, pledge__state="needs_action"
    ).values_list("pk", flat=True)
    sent = 0
    for payment_id in ids:
        try:
            sent += notifications.notify_needs_action(payment_id=payment_id)
        except OSError as exc:  # the mail server; the next run tries this one again
            logger.warning("could not remind the supporter of payment %s: %s", payment_id, exc)
    return sent


@shared_task(**MAIL)
def tell_supporters(slate_id: int, kind: str) -> int:
    return notifications.tell_supporters(slate_id=slate_id, kind=kind)
