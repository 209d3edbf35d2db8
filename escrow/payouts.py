"""Paying candidates what the ledger says they are owed.

A conduit must forward earmarked money within 10 days of receiving it, so each payout is due
``SLATE_PAYOUT_DUE_DAYS`` after the earliest capture it contains. A candidate with a Stripe
Connect account gets a transfer; one without gets a disbursement record for the treasurer.
Both post the same ledger entries (payable debited, paid credited).
"""

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from slate import services as slate_services
from slate.errors import DomainError
from slate.queue import enqueue_named_on_commit

from . import stripe_gateway, stripe_payouts
from .ledger import Posting, post
from .models import (
    CandidatePayoutAccount,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutDestinationChange,
)
from .selectors import candidate_unreserved_cents
from .states import PAYOUT_RESERVED, move_status

A = LedgerAccount


def schedule_payouts(*, slate_id: int) -> list[Payout]:
    """Create a payout for every candidate owed more than their unsent payouts cover."""
    created = []
    with transaction.atomic():
        slate_services.lock_slate(slate_id)  # one scheduler per slate at a time
        candidate_ids = (
            LedgerEntry.objects.filter(slate_id=slate_id, account=A.CANDIDATE_PAYABLE)
            .values_list("candidate_id", flat=True)
            .distinct()
        )
        for candidate_id in candidate_ids:
            owed = candidate_unreserved_cents(candidate_id, slate_id)
            if owed <= 0:
                continue
            first_capture = LedgerTransaction.objects.filter(
                slate_id=slate_id, kind="capture", entries__candidate_id=candidate_id,
            ).aggregate(first=Min("created_at"))["first"] or timezone.now()  # fmt: skip
            account = CandidatePayoutAccount.objects.filter(candidate_id=candidate_id).first()
            created.append(
                Payout.objects.create(
                    slate_id=slate_id,
                    candidate_id=candidate_id,
                    amount_cents=owed,
                    due_at=first_capture + timedelta(days=settings.SLATE_PAYOUT_DUE_DAYS),
                    destination_account_id=account.stripe_account_id if account else "",
                )
            )
    return created


def send_payout(*, payout_id: int) -> Payout:
    """Transfer (or record) one payout, once."""
    with transaction.atomic():
        # The slate's lock orders this against refunds and schedule_payouts, which read what
        # is owed and what is reserved: the amount fixed here cannot be claimed twice.
        slate_id = Payout.objects.values_list("slate_id", flat=True).get(pk=payout_id)
        slate_services.lock_slate(slate_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status == Payout.Status.PENDING:
            # This attempt's key has never been sent, so its amount may still change: what is
            # owed now (a refund made in Stripe since, say), never more than was scheduled.
            # Once sending, a retry must ask for the same amount under the same key.
            owed = candidate_unreserved_cents(
                payout.candidate_id, payout.slate_id, excluding_payout_id=payout.pk
            )
            if owed <= 0:
                move_status(payout, Payout.Status.CANCELED)
                payout.needs_attention = False
                payout.save(update_fields=["status", "needs_attention"])
                return payout
            payout.amount_cents = min(payout.amount_cents, owed)
            move_status(payout, Payout.Status.SENDING)
            payout.sending_started_at = timezone.now()
            payout.save(update_fields=["amount_cents", "status", "sending_started_at"])
        elif payout.status != Payout.Status.SENDING:
            return payout
    key = f"payout-{payout.pk}-transfer"  # the ledger's key: one posting whatever the attempt
    if payout.destination_account_id:
        try:
            result = stripe_payouts.payout_gateway().transfer(
                destination_account_id=payout.destination_account_id,
                amount_cents=payout.amount_cents,
                currency=payout.currency,
                idempotency_key=transfer_key(payout),
                metadata={"payout_id": payout.pk, "slate_id": payout.slate_id},
            )
        except stripe_gateway.GatewayError as exc:
            if exc.retryable:
                raise  # still "sending": the task's retry or the sweeper sends it again
            return _fail_payout(payout_id=payout.pk, error=exc)
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
        move_status(payout, final)
        payout.transfer_id = transfer_id
        payout.paid_at = timezone.now()
        update = ["status", "transfer_id", "paid_at"]
        if final == Payout.Status.PAID:
            # The transfer is the disbursement; a recorded payout waits for the treasurer.
            payout.disbursed_at = payout.paid_at
            payout.disbursement_reference = transfer_id
            payout.needs_attention = False
            update += ["disbursed_at", "disbursement_reference", "needs_attention"]
        payout.save(update_fields=update)
        post(
            key=key, kind="payout", slate_id=payout.slate_id, payout_id=payout.pk,
            postings=[
                Posting(A.CANDIDATE_PAYABLE, payout.amount_cents, candidate_id=payout.candidate_id),
                Posting(A.CANDIDATE_PAID, -payout.amount_cents, candidate_id=payout.candidate_id),
            ],
        )  # fmt: skip
        enqueue_named_on_commit("escrow.tasks.notify_payout", payout.pk)
    return payout


def transfer_key(payout: Payout) -> str:
    """Our ids and the attempt; the first attempt keeps the key payouts always had."""
    base = f"payout-{payout.pk}-transfer"
    return base if payout.attempt == 1 else f"{base}-{payout.attempt}"


def _fail_payout(*, payout_id: int, error: stripe_gateway.GatewayError) -> Payout:
    """Stripe refused the transfer for good (closed or unknown account, say): the payout
    fails, keeps its money reserved, and staff are told. Nothing is posted."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != Payout.Status.SENDING:
            return payout
        move_status(payout, Payout.Status.FAILED)
        payout.last_error = f"{error.code}: {error.message}"[:500]
        payout.needs_attention = True
        payout.save(update_fields=["status", "last_error", "needs_attention"])
        enqueue_named_on_commit("escrow.tasks.alert_payout_failed", payout.pk)
    return payout


class PayoutError(DomainError):
    pass


def _require_payout_manager(actor) -> None:
    """Staff with ``escrow.manage_payouts`` (the treasurer) send and record payouts by hand."""
    if not (actor.is_authenticated and actor.is_staff and actor.has_perm("escrow.manage_payouts")):
        raise PayoutError("forbidden", "Only the treasurer (staff who manage payouts) may do this.")


def send_failed_payout_again(*, payout_id: int, actor) -> Payout:
    """Staff fixed what made Stripe refuse (the candidate's connected account, say): send the
    payout again to the candidate's current account, or record it for the treasurer if they
    no longer have one. A new attempt, so a new idempotency key."""
    _require_payout_manager(actor)
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != Payout.Status.FAILED:
            raise PayoutError("not_failed", f"Payout #{payout.pk} has not failed.")
        account = CandidatePayoutAccount.objects.filter(candidate_id=payout.candidate_id).first()
        payout.destination_account_id = account.stripe_account_id if account else ""
        payout.attempt += 1
        move_status(payout, Payout.Status.PENDING)
        payout.last_error = ""
        payout.needs_attention = False
        payout.save(
            update_fields=[
                "destination_account_id", "attempt", "status", "last_error", "needs_attention"
            ]
        )  # fmt: skip
    return send_payout(payout_id=payout.pk)


def record_disbursement(*, payout_id: int, reference: str, actor) -> Payout:
    """The treasurer sent a recorded payout's money to the candidate's committee (check,
    wire): note when and how. Only staff with the ``manage_payouts`` permission."""
    _require_payout_manager(actor)
    reference = (reference or "").strip()
    if not reference:
        raise PayoutError(
            "reference_required",
            "Enter the check number or wire reference.",
            field="reference",
        )
    if len(reference) > Payout._meta.get_field("disbursement_reference").max_length:
        raise PayoutError("reference_too_long", "That reference is too long.", field="reference")
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != Payout.Status.RECORDED:
            raise PayoutError(
                "not_recorded", "Only a payout recorded for the treasurer is disbursed by hand."
            )
        if payout.disbursed_at is not None:
            raise PayoutError(
                "already_disbursed",
                f"This payout was disbursed on {payout.disbursed_at:%Y-%m-%d} "
                f"({payout.disbursement_reference}).",
            )
        payout.disbursed_at = timezone.now()
        payout.disbursement_reference = reference
        payout.disbursed_by = actor
        payout.needs_attention = False
        payout.save(
            update_fields=[
                "disbursed_at", "disbursement_reference", "disbursed_by", "needs_attention"
            ]
        )  # fmt: skip
    return payout


def payouts_not_disbursed():
    """Money the candidates are owed that has not left yet: unsent, failed, or recorded for
    the treasurer and not yet sent by them. The conduit's 10-day limit applies to all of it."""
    return Payout.objects.filter(
        Q(status__in=PAYOUT_RESERVED) | Q(status=Payout.Status.RECORDED, disbursed_at__isnull=True)
    )


def flag_payouts_near_due(*, now=None, warn_days: int = 2) -> list[Payout]:
    """Payouts not disbursed within ``warn_days`` of the conduit deadline: flagged for staff."""
    now = now or timezone.now()
    near = payouts_not_disbursed().filter(due_at__lte=now + timedelta(days=warn_days))
    flagged = list(near.filter(needs_attention=False))
    near.update(needs_attention=True)
    return flagged


STRIPE_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,250}")


def clean_stripe_account_id(value: str) -> str:
    """A Stripe Connect account id (``acct_…``), or empty for "pay through the treasurer"."""
    value = (value or "").strip()
    if value and not STRIPE_ACCOUNT_ID.fullmatch(value):
        raise PayoutError(
            "invalid_account",
            "Enter a Stripe Connect account id (acct_ followed by letters and digits), or "
            "nothing to pay this candidate through the treasurer.",
            field="stripe_account_id",
        )
    return value


def set_payout_destination(
    *, candidate_id: int, stripe_account_id: str, actor
) -> CandidatePayoutAccount | None:
    """Where a candidate's payouts go from now on: their Stripe Connect account, or (empty)
    the treasurer. Only the treasurer (``escrow.manage_payouts``) changes it, and every change
    is recorded: who, when, from what to what. Payouts already scheduled keep their
    destination; a failed one sent again goes to the new one."""
    _require_payout_manager(actor)
    account_id = clean_stripe_account_id(stripe_account_id)
    with transaction.atomic():
        current = (
            CandidatePayoutAccount.objects.select_for_update()
            .filter(candidate_id=candidate_id)
            .first()
        )
        previous = current.stripe_account_id if current else ""
        if previous == account_id:
            return current
        if not account_id:
            current.delete()
            current = None
        elif current is None:
            current = CandidatePayoutAccount.objects.create(
                candidate_id=candidate_id, stripe_account_id=account_id
            )
        else:
            current.stripe_account_id = account_id
            current.save(update_fields=["stripe_account_id"])
        PayoutDestinationChange.objects.create(
            candidate_id=candidate_id, previous_account_id=previous, account_id=account_id,
            changed_by=actor,
        )  # fmt: skip
    return current
