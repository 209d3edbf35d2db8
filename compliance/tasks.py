"""Thin Celery wrappers around compliance services; each is safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from escrow.models import LedgerTransaction
from slate import mail

from . import notifications, privacy, services
from .models import ReceiptNotice

logger = logging.getLogger(__name__)


@shared_task(**mail.TASK_RETRY)
def send_receipt(transaction_id: int) -> bool:
    return notifications.send_receipt(transaction_id=transaction_id)


@shared_task
def send_missing_receipts() -> int:
    """Beat (every five minutes) and after a release: a receipt for each capture and refund
    of the last week that has none yet."""
    missing = (
        LedgerTransaction.objects.filter(
            kind__in=["capture", "refund"], pledge__isnull=False,
            created_at__gte=timezone.now() - timedelta(days=7),
        )
        .exclude(Exists(ReceiptNotice.objects.filter(ledger_transaction_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )  # fmt: skip
    sent = 0
    for pk in missing:
        try:
            sent += notifications.send_receipt(transaction_id=pk)
        except Exception:  # one address failing again must not hold up the others
            logger.exception("receipt for ledger transaction %s failed", pk)
    return sent


@shared_task
def request_missing_donor_details() -> int:
    return services.request_missing_donor_details()


@shared_task
def forget_cards_left_attached() -> int:
    """Beat (every minute): a deleted supporter's cards whose detach task was lost."""
    return privacy.forget_cards_left_attached()
