"""Emails to supporters about their money. Sent by Celery tasks, never inside a transaction."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from candidates.selectors import valid_signatures
from pledges.models import Pledge
from pledges.states import PledgeState
from slate import mail
from slate.links import public_url
from slate.models import Slate, SlateTransition
from slate.selectors import slate_counts
from slate.templatetags.money import dollars

from .models import Payment, Payout, Refund, SupporterNotice, WebhookEvent
from .states import PAYOUT_SENT

REMIND_EVERY = timedelta(hours=48)


def complete_payment_url(pledge_id: int) -> str:
    return public_url(f"/pledges/{pledge_id}/complete-payment/")


def notify_needs_action(*, payment_id: int, now=None) -> bool:
    """Email the supporter once now, then at most every 48 hours, while the card needs them.
    Returns whether an email went out. Safe to call any number of times: the mail goes out
    under the payment's row lock and the mark commits only after it, so a mail server error
    leaves the notice to the task's retry or the next beat run."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("pledge__slate", "pledge__supporter")
            .get(pk=payment_id)
        )
        pledge = payment.pledge
        if payment.status != Payment.Status.REQUIRES_ACTION:
            return False
        if pledge.state != PledgeState.NEEDS_ACTION:
            return False
        reminder = payment.supporter_notified_at is not None
        if reminder and payment.supporter_notified_at > now - REMIND_EVERY:
            return False
        grace = timedelta(days=settings.SLATE_NEEDS_ACTION_GRACE_DAYS)
        mail.send(
            mail.Email(
                to=pledge.supporter.email,
                subject=(
                    "Reminder: confirm your pledge payment"
                    if reminder
                    else "Confirm your pledge payment"
                ),
                template="escrow/email/needs_action.txt",
                context={
                    "pledge": pledge,
                    "payment": payment,
                    "reminder": reminder,
                    "complete_url": complete_payment_url(pledge.pk),
                    "deadline": pledge.state_changed_at + grace,
                },
                slate=pledge.slate,
                reason=f"you pledged to {pledge.slate.name} and your bank needs you",
            )
        )
        payment.supporter_notified_at = now
        payment.save(update_fields=["supporter_notified_at"])
    return True


def notify_unwanted_payment_refunded(*, refund_id: int, now=None) -> bool:
    """Tell the supporter, once, that money their bank paid after their pledge had ended was
    refunded in full (they may have completed 3-D Secure after the grace period, or the slate
    let their pledge go while the payment was on its way). Same locking as above: marked
    only once the mail went out."""
    now = now or timezone.now()
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("payment__pledge__slate", "payment__pledge__supporter")
            .get(pk=refund_id)
        )
        if refund.supporter_notified_at is not None or refund.status != Refund.Status.SUCCEEDED:
            return False
        pledge = refund.payment.pledge
        mail.send(
            mail.Email(
                to=pledge.supporter.email,
                subject=f"Your payment to {pledge.slate.name} was refunded",
                template="escrow/email/unwanted_refunded.txt",
                context={"pledge": pledge, "refund": refund},
                slate=pledge.slate,
                reason=f"you pledged to {pledge.slate.name}",
            )
        )
        refund.supporter_notified_at = now
        refund.save(update_fields=["supporter_notified_at"])
    return True


def unwanted_refund_ids_not_notified(*, refunded_before) -> list[int]:
    """Automatic refunds of unwanted payments whose supporter was never told (the notice
    task was lost). A refund has no time of its own for going out; the payment's last change
    (the refund recorded) stands for it."""
    return list(
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED,
            supporter_notified_at__isnull=True,
            payment__unwanted_at__isnull=False,
            payment__updated_at__lte=refunded_before,
        ).values_list("pk", flat=True)
    )


NOTICE_SUBJECTS = {
    "charged": "{slate} locked: your pledge was charged",
    "voided": "{slate} did not lock: nothing was charged",
}
# Each slate-wide notice: the slate state it follows and the pledges it is about.
NOTICE_AFTER = {"charged": "released", "voided": "voided"}
NOTICE_PLEDGE_STATE = {"charged": PledgeState.CAPTURED, "voided": PledgeState.VOIDED}


def tell_supporters(*, slate_id: int, kind: str) -> int:
    """Email each supporter with money on the slate once about its outcome: ``charged``
    after the release, ``voided`` after an expiry. Returns how many emails went out."""
    slate = Slate.objects.get(pk=slate_id)
    rows = (
        Pledge.objects.filter(slate=slate, kind="money", state=NOTICE_PLEDGE_STATE[kind])
        .values("supporter_id", "supporter__email")
        .annotate(total=Sum("captured_cents" if kind == "charged" else "amount_cents"))
    )
    # The charge receipt is also the money supporter's "released" news (organizing.milestones
    # sends that news only to the others): one email at the release, with what the slate did.
    results = {}
    if kind == "charged":
        results = {
            "counts": slate_counts(slate.pk),
            "signers": [
                s.candidate.full_name
                for s in valid_signatures(slate).select_related("candidate").order_by("signed_at")
            ],
            "slate_url": public_url(slate.get_absolute_url()),
        }
    sent = 0
    for row in rows:
        try:
            # The notice row and the mail commit together: a mail server error rolls the
            # row back, so the task's retry (or the sweeper) tells this supporter and the
            # ones after them. A second run at the same time waits on the row, then skips.
            with transaction.atomic():
                SupporterNotice.objects.create(
                    slate=slate, supporter_id=row["supporter_id"], kind=kind
                )
                went = mail.send(
                    mail.Email(
                        to=row["supporter__email"],
                        subject=NOTICE_SUBJECTS[kind].format(slate=slate.name),
                        template=f"escrow/email/{kind}.txt",
                        context={"slate": slate, "total_cents": row["total"], **results},
                        slate=slate,
                        reason=f"you pledged money to {slate.name}",
                    )
                )
        except IntegrityError:
            continue  # told already
        sent += went
    return sent


def slates_with_untold_supporters(*, changed_before, window=timedelta(days=14)) -> list:
    """(slate id, kind) for slates that reached their outcome in the last ``window`` (before
    ``changed_before``) with a supporter not yet told: the telling task was lost or failed."""
    found = []
    for kind, to_state in NOTICE_AFTER.items():
        slate_ids = SlateTransition.objects.filter(
            to_state=to_state,
            created_at__lte=changed_before,
            created_at__gte=changed_before - window,
        ).values("slate_id")
        told = SupporterNotice.objects.filter(
            slate_id=OuterRef("slate_id"), supporter_id=OuterRef("supporter_id"), kind=kind
        )
        untold = (
            Pledge.objects.filter(
                slate_id__in=slate_ids, kind="money", state=NOTICE_PLEDGE_STATE[kind]
            )
            .exclude(Exists(told))
            .order_by("slate_id")
            .values_list("slate_id", flat=True)
            .distinct()
        )
        found += [(slate_id, kind) for slate_id in untold]
    return found


def payout_recipients(payout) -> list[str]:
    """Who hears that a payout went out: the account that claimed the candidate's profile."""
    user = payout.candidate.user
    return [user.email] if user is not None and user.email else []


def notify_payout(*, payout_id: int, now=None) -> bool:
    """Email the candidate that their share was transferred, or recorded for the treasurer
    to disburse. Returns whether an email went out. Safe to call any number of times: the
    mail goes out under the payout's row lock and the mark commits only after it, so a mail
    server error leaves the notice to the task's retry (or the sweeper)."""
    now = now or timezone.now()
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(of=("self",))
            .select_related("slate", "candidate__user")
            .get(pk=payout_id)
        )
        if payout.status not in PAYOUT_SENT:
            return False
        if payout.candidate_notified_at is not None:
            return False
        recipients = payout_recipients(payout)
        for recipient in recipients:
            mail.send(
                mail.Email(
                    to=recipient,
                    subject=f"{payout.slate.name}: your share of the pledges was sent",
                    template="escrow/email/payout.txt",
                    context={"payout": payout, "transferred": payout.status == Payout.Status.PAID},
                    slate=payout.slate,
                    reason=f"you signed {payout.slate.name} and its pledges were paid out",
                )
            )
        # An unclaimed profile has nobody to tell; its payouts show on the organizer's pages.
        payout.candidate_notified_at = now
        payout.save(update_fields=["candidate_notified_at"])
    return bool(recipients)


def payout_ids_not_notified(*, sent_before) -> list[int]:
    """Sent payouts whose candidate was never told (the notice task was lost)."""
    return list(
        Payout.objects.filter(
            status__in=PAYOUT_SENT,
            candidate_notified_at__isnull=True,
            paid_at__lte=sent_before,
        ).values_list("pk", flat=True)
    )


def alert_dispute(*, payment_id: int, dispute: dict) -> None:
    """Email staff that a supporter disputed a charge, with what they need to respond."""
    payment = Payment.objects.select_related("pledge__slate").get(pk=payment_id)
    due = (
        datetime.fromtimestamp(dispute["due_by"], tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        if dispute.get("due_by")
        else "see the Stripe dashboard"
    )
    lines = [
        f"Dispute {dispute['id']} on pledge #{payment.pledge_id} "
        f"({payment.pledge.slate.name}), PaymentIntent {payment.payment_intent_id}.",
        f"Amount: {dollars(dispute['amount_cents'])}. Reason: {dispute['reason']}.",
        f"Evidence due by: {due}.",
        "The payment is flagged (admin: Payments, disputed). Answer the dispute in Stripe "
        "before that date. Stripe withdrew the disputed amount from the platform balance; the "
        "ledger holds it in 'disputes' until the dispute closes (won: it comes back; lost: "
        "the platform bears it, the candidates keep what they were owed).",
    ]
    mail_admins(f"Dispute opened on pledge #{payment.pledge_id}", "\n".join(lines))


def alert_payout_failed(*, payout_id: int) -> None:
    """Tell staff that Stripe refused a payout for good, why, and what to do."""
    payout = Payout.objects.select_related("candidate", "slate").get(pk=payout_id)
    mail_admins(
        f"Payout #{payout.pk} to {payout.candidate} failed",
        f"Stripe refused the transfer of {dollars(payout.amount_cents)} from "
        f"{payout.slate.name} to {payout.destination_account_id}: {payout.last_error}\n"
        f"It is due by {payout.due_at:%Y-%m-%d}. Fix the candidate's payout account (or "
        "remove it to pay by check), then use 'Send the selected failed payouts again' in "
        "the admin's Payouts list.",
    )


def _failing_webhook_events(min_attempts: int):
    return WebhookEvent.objects.filter(
        processed_at__isnull=True, alerted_at__isnull=True, attempts__gte=min_attempts
    ).order_by("received_at", "pk")


def failing_webhook_events_to_alert(*, min_attempts: int) -> bool:
    return _failing_webhook_events(min_attempts).exists()


def alert_failing_webhook_events(*, min_attempts: int) -> int:
    """Tell staff, once, about Stripe events that failed ``min_attempts`` times: until one is
    processed the books may miss what it reports (a refund, a dispute). The events are marked
    as told only once the mail went out; a mail error rolls the mark back for the retry."""
    with transaction.atomic():
        events = list(
            _failing_webhook_events(min_attempts).select_for_update(skip_locked=True)[:200]
        )
        if not events:
            return 0
        lines = [
            f"{event.type} {event.event_id} (received {event.received_at:%Y-%m-%d %H:%M} UTC, "
            f"{event.attempts} attempts): {event.error[:300]}"
            for event in events
        ]
        mail_admins(
            f"{len(events)} Stripe event(s) keep failing",
            "These Stripe webhook events could not be processed; the sweeper keeps trying "
            "them. Until each is processed the books may miss what it reports. See the admin's "
            "Webhook events list, filter 'Processing: failing'.\n\n" + "\n".join(lines),
        )
        WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(alerted_at=timezone.now())
    return len(events)


def alert_refund_failed(*, refund_id: int) -> None:
    """Tell staff that Stripe refused a refund for good: the supporter has not had the money
    back, and the candidates' shares of it are owed to them again."""
    refund = Refund.objects.select_related("payment__pledge__slate").get(pk=refund_id)
    pledge = refund.payment.pledge
    mail_admins(
        f"Refund of pledge #{pledge.pk} failed",
        f"Stripe refused the refund of {dollars(refund.amount_cents)} to the supporter of "
        f"pledge #{pledge.pk} ({pledge.slate.name}), PaymentIntent "
        f"{refund.payment.payment_intent_id}: {refund.last_error}\n"
        f"Reason given for the refund: {refund.reason}\n"
        "Nothing was refunded and nothing was booked; the money is no longer set aside, so "
        "it will be paid out to the candidates unless the refund is made again. Look at the "
        "payment in the Stripe dashboard (a disputed charge cannot be refunded, for one), "
        "then refund it again or settle with the supporter another way.",
    )
