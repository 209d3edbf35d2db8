"""Contributions as the ledger records them: a capture credited to a candidate is a
contribution made on the capture's date; refunds of it reduce it."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from escrow.models import LedgerAccount, LedgerEntry

from .models import Donor


@dataclass(frozen=True)
class Contribution:
    pledge_id: int
    supporter_id: int
    slate_id: int
    candidate_id: int
    received_at: datetime
    amount_cents: int  # captured for this candidate
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


UNREAD = object()


def has_merged_donors() -> Exists:
    """Annotation for a Donor query: whether any donor was merged into this one."""
    return Exists(Donor.objects.filter(merged_into_id=OuterRef("pk")))


def donor_group_user_ids(user_id: int, donor=UNREAD) -> list[int]:
    """The accounts whose contributions add up with ``user_id``'s: its donor, the donor
    it was merged into, and every donor merged into that one. ``donor``: the account's donor
    (or None: it has none) when the caller has read it already."""
    if donor is UNREAD:
        donor = Donor.objects.filter(user_id=user_id).only("pk", "merged_into_id").first()
    if donor is None:
        return [user_id]
    if donor.merged_into_id is None and getattr(donor, "has_merged", True) is False:
        return [user_id]  # read with has_merged_donors(): a group of one
    root_id = donor.root_id
    users = set(
        Donor.objects.filter(Q(pk=root_id) | Q(merged_into_id=root_id)).values_list(
            "user_id", flat=True
        )
    )
    return sorted(users | {user_id})


def contributions(
    *, user_ids: Iterable[int] | None = None, candidate_ids: Iterable[int] | None = None
) -> list[Contribution]:
    """Every capture credited to a candidate, net of its refunds, oldest first."""
    entries = LedgerEntry.objects.filter(
        account=LedgerAccount.CANDIDATE_PAYABLE, pledge__isnull=False
    )
    if user_ids is not None:
        entries = entries.filter(pledge__supporter_id__in=list(user_ids))
    if candidate_ids is not None:
        entries = entries.filter(candidate_id__in=list(candidate_ids))
    rows = entries.values_list(
        "pledge_id", "pledge__supporter_id", "slate_id", "candidate_id",
        "transaction__created_at", "transaction_id", "amount_cents",
    ).order_by("transaction__created_at", "transaction_id")  # fmt: skip
    captures: list[list] = []
    refunded: dict[tuple[int, int], int] = defaultdict(int)
    for pledge_id, supporter_id, slate_id, candidate_id, at, _, cents in rows:
        if cents < 0:  # payable credited: a capture
            captures.append([pledge_id, supporter_id, slate_id, candidate_id, at, -cents])
        else:  # payable debited: a refund
            refunded[(pledge_id, candidate_id)] += cents
    result = []
    for pledge_id, supporter_id, slate_id, candidate_id, at, cents in captures:
        back = min(cents, refunded[(pledge_id, candidate_id)])
        refunded[(pledge_id, candidate_id)] -= back
        result.append(
            Contribution(pledge_id, supporter_id, slate_id, candidate_id, at, cents, back)
        )
    return result
