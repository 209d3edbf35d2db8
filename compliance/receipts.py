"""Receipts for supporters: one per capture and one per refund, read from the ledger, with
the amount per candidate committee and the conditions the donor saw when pledging."""

from dataclasses import dataclass
from datetime import datetime

from candidates.models import Candidate
from escrow.models import LedgerAccount, LedgerEntry, LedgerTransaction
from pledges.models import Pledge

from .models import Donor, PledgeDeclaration

RECEIPT_KINDS = {"capture": "Contribution", "refund": "Refund"}


@dataclass(frozen=True)
class ReceiptLine:
    candidate: Candidate
    amount_cents: int

    @property
    def committee(self) -> str:
        committee = self.candidate.fec_committee_id
        return f"{self.candidate.full_name} ({committee})" if committee else str(self.candidate)


@dataclass(frozen=True)
class Receipt:
    transaction_id: int
    kind: str  # "capture" or "refund"
    at: datetime
    pledge: Pledge
    donor: Donor | None
    lines: list[ReceiptLine]
    conditions: str
    memo: str

    @property
    def title(self) -> str:
        return RECEIPT_KINDS[self.kind]

    @property
    def number(self) -> str:
        return f"{'C' if self.kind == 'capture' else 'R'}-{self.transaction_id:08d}"

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def _receipt(transaction: LedgerTransaction) -> Receipt:
    entries = (
        LedgerEntry.objects.filter(transaction=transaction, account=LedgerAccount.CANDIDATE_PAYABLE)
        .select_related("candidate")
        .order_by("candidate__full_name", "candidate_id")
    )
    sign = -1 if transaction.kind == "capture" else 1
    lines = [ReceiptLine(e.candidate, sign * e.amount_cents) for e in entries]
    pledge = transaction.pledge
    declaration = PledgeDeclaration.objects.filter(pledge=pledge).select_related("donor").first()
    return Receipt(
        transaction_id=transaction.pk, kind=transaction.kind, at=transaction.created_at,
        pledge=pledge, donor=declaration.donor if declaration else None, lines=lines,
        conditions=declaration.disclosed_conditions if declaration else "",
        memo=transaction.memo,
    )  # fmt: skip


def _receipt_transactions():
    return LedgerTransaction.objects.filter(
        kind__in=list(RECEIPT_KINDS), pledge__isnull=False
    ).select_related("pledge__slate", "pledge__supporter")


def receipt(transaction_id: int, *, user=None) -> Receipt | None:
    """One receipt; with ``user``, only if it is theirs (None otherwise, as if absent)."""
    transactions = _receipt_transactions().filter(pk=transaction_id)
    if user is not None:
        transactions = transactions.filter(pledge__supporter=user)
    transaction = transactions.first()
    return _receipt(transaction) if transaction else None


def receipts_of(user) -> list[Receipt]:
    return [
        _receipt(t)
        for t in _receipt_transactions().filter(pledge__supporter=user).order_by("-created_at")
    ]
