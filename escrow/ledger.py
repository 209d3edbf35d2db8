"""Posting to the double-entry ledger. The only writer of LedgerTransaction/LedgerEntry."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from .models import LedgerAccount, LedgerEntry, LedgerTransaction


class UnbalancedTransaction(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    amount_cents: int  # debit positive, credit negative
    candidate_id: int | None = None


def post(
    *,
    key: str,
    kind: str,
    slate_id: int,
    postings: Sequence[Posting],
    pledge_id: int | None = None,
    payment_id: int | None = None,
    payout_id: int | None = None,
    memo: str = "",
) -> LedgerTransaction | None:
    """Write one balanced transaction inside the caller's transaction.

    ``key`` names the business step (``pledge-42-payment-1-capture``); a second post with the
    same key writes nothing and returns None, so a retried step never doubles the books.
    """
    postings = [p for p in postings if p.amount_cents != 0]
    for posting in postings:
        if isinstance(posting.amount_cents, bool) or not isinstance(posting.amount_cents, int):
            raise UnbalancedTransaction(f"{key}: amounts are whole cents")
        if posting.account not in LedgerAccount.values:
            raise UnbalancedTransaction(f"{key}: unknown account {posting.account}")
    if sum(p.amount_cents for p in postings) != 0:
        raise UnbalancedTransaction(f"{key}: entries do not sum to zero")
    if not postings:
        return None
    if LedgerTransaction.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            ledger_transaction = LedgerTransaction.objects.create(
                key=key, kind=kind, slate_id=slate_id, pledge_id=pledge_id,
                payment_id=payment_id, payout_id=payout_id, memo=memo[:500],
            )  # fmt: skip
    except IntegrityError:
        return None  # posted concurrently under the same key
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            transaction=ledger_transaction,
            account=p.account,
            candidate_id=p.candidate_id,
            slate_id=slate_id,
            pledge_id=pledge_id,
            amount_cents=p.amount_cents,
        )
        for p in postings
    )
    return ledger_transaction
