"""Emails to supporters about their money. Sent by Celery tasks, never inside a transaction."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from pledges.states import PledgeState

from .models import Payment

REMIND_EVERY = timedelta(hours=48)


def complete_payment_url(pledge_id: int) -> str:
    base = getattr(settings, "SLATE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/pledges/{pledge_id}/complete-payment/"


def notify_needs_action(*, payment_id: int, now=None) -> bool:
    """Email the supporter once now, then at most every 48 hours, while the card needs them.
    Returns whether an email went out. Safe to call any number of times."""
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
        payment.supporter_notified_at = now
        payment.save(update_fields=["supporter_notified_at"])
    grace = timedelta(days=settings.SLATE_NEEDS_ACTION_GRACE_DAYS)
    body = render_to_string(
        "escrow/email/needs_action.txt",
        {
            "pledge": pledge,
            "payment": payment,
            "reminder": reminder,
            "complete_url": complete_payment_url(pledge.pk),
            "deadline": pledge.state_changed_at + grace,
        },
    )
    subject = "Reminder: confirm your pledge payment" if reminder else "Confirm your pledge payment"
    send_mail(subject, body, None, [pledge.supporter.email])
    return True
