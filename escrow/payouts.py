"""Paying candidates what the ledger says they are owed.

A conduit must forward earmarked money within 10 days of receiving it, so each payout is due
``SLATE_PAYOUT_DUE_DAYS`` after the earliest capture it contains. A candidate with a Stripe
Connect account gets a transfer; one without gets a disbursement record for the treasurer.
Both post the same ledger entries (payable debited, paid credited).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from slate import services as slate_services
from slate.queue import enqueue_on_commit

from . import stripe_gateway
from .ledger import Posting, post
from .models import (
    CandidatePayoutAccount,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
)

A = LedgerAccount
UNSENT = (Payout.Status.PENDING, Payout.Status.SENDING)


def schedule_payouts(*, slate_id: int) -> list[Payout]:
    """Create a payout for every candidate owed more than their unsent payouts cover."""
    created = []
    with transaction.atomic():
        slate_services.lock_slate(slate_id)  # one scheduler per slate at a time
        owed = (
            LedgerEntry.objects.filter(slate_id=slate_id, account=A.CANDIDATE_PAYABLE)
            .values("candidate_id")
            .annotate(total=Sum("amount_cents"))
        )
        for row in owed:
            payable = -row["total"]
            unsent = (
                Payout.objects.filter(
                    slate_id=slate_id, candidate_id=row["candidate_id"], status__in=UNSENT
                ).aggregate(s=Sum("amount_cents"))["s"]
                or 0
            )
            if payable - unsent <= 0:
                continue
            first_capture = LedgerTransaction.objects.filter(
                slate_id=slate_id, kind="capture",
                entries__candidate_id=row["candidate_id"],
            ).aggregate(first=Min("created_at"))["first"] or timezone.now()  # fmt: skip
            account = CandidatePayoutAccount.objects.filter(
                candidate_id=row["candidate_id"]
            ).first()
            created.append(
                Payout.objects.create(
                    slate_id=slate_id,
                    candidate_id=row["candidate_id"],
                    amount_cents=payable - unsent,
                    due_at=first_capture + timedelta(days=settings.SLATE_PAYOUT_DUE_DAYS),
                    destination_account_id=account.stripe_account_id if account else "",
                )
            )
    return created


def send_payout(*, payout_id: int) -> Payout:
    """Transfer (or record) one payout, once."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status not in UNSENT:
            return payout
        payout.status = Payout.Status.SENDING
        payout.save(update_fields=["status"])
    key = f"payout-{payout.pk}-transfer"
    if payout.destination_account_id:
        result = stripe_gateway.payout_gateway().transfer(
            destination_account_id=payout.destination_account_id,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
            idempotency_key=key,
            metadata={"payout_id": payout.pk, "slate_id": payout.slate_id},
        )
        transfer_id, final = result.id, Payout.Status.PAID
    else:
        transfer_id, final = "", Payout.Status.RECORDED
    with transaction.atomic():
        # The slate's lock orders this against schedule_payouts, which reads what is owed and
        # what is unsent: recording a payout as paid can never fall between those two reads.
        slate_id = Payout.objects.values_list("slate_id", flat=True).get(pk=payout_id)
        slate_services.lock_slate(slate_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != Payout.Status.SENDING:
            return payout
        payout.status = final
        payout.transfer_id = transfer_id
        payout.paid_at = timezone.now()
        payout.needs_attention = False
        payout.save(update_fields=["status", "transfer_id", "paid_at", "needs_attention"])
        post(
            key=key, kind="payout", slate_id=payout.slate_id, payout_id=payout.pk,
            postings=[
                Posting(A.CANDIDATE_PAYABLE, payout.amount_cents, candidate_id=payout.candidate_id),
                Posting(A.CANDIDATE_PAID, -payout.amount_cents, candidate_id=payout.candidate_id),
            ],
        )  # fmt: skip
        from .tasks import notify_payout

        enqueue_on_commit(notify_payout, payout.pk)
    return payout


def flag_payouts_near_due(*, now=None, warn_days: int = 2) -> list[Payout]:
    """Payouts unsent within ``warn_days`` of the conduit deadline: flagged for staff."""
    now = now or timezone.now()
    near = Payout.objects.filter(status__in=UNSENT, due_at__lte=now + timedelta(days=warn_days))
    flagged = list(near.filter(needs_attention=False))
    near.update(needs_attention=True)
    return flagged
