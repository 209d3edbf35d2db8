"""Every write of the compliance app."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from pledges.models import Pledge

from .capping import CappedAllocation
from .errors import ComplianceError
from .models import CaptureDecision, Donor
from .selectors import capped_allocation

__all__ = ["ComplianceError", "decide_capture", "ensure_donor"]


def ensure_donor(user) -> Donor:
    """The user's donor record, created (with their account email) on first need."""
    existing = Donor.objects.filter(user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Donor.objects.create(user=user, email=user.email or "")
    except IntegrityError:
        return Donor.objects.get(user=user)


def lock_donor_root(user) -> Donor:
    """The root donor of the user's group, row-locked until the transaction ends: captures of
    one donor's pledges are decided one at a time."""
    donor = ensure_donor(user)
    return Donor.objects.select_for_update().get(pk=donor.root_id)


@transaction.atomic
def decide_capture(
    *,
    pledge: Pledge,
    planned: Mapping[int, int],
    at: datetime,
    signed_candidate_ids: Iterable[int] | None = None,
) -> CappedAllocation:
    """``compliance.selectors.capped_allocation`` under the donor's row lock, recorded as the
    pledge's ``CaptureDecision`` (replacing an earlier one), so that concurrent captures of
    the same donor's other pledges count this one until its capture reaches the ledger.
    Call it before asking Stripe to capture; capture ``result.total_cents`` and credit
    ``result.capturable``. Takes the donor lock after whatever the caller holds (slate,
    pledge, payment), so it never waits while holding it."""
    root = lock_donor_root(pledge.supporter)
    result = capped_allocation(pledge, planned, at=at, signed_candidate_ids=signed_candidate_ids)
    CaptureDecision.objects.update_or_create(
        pledge=pledge,
        defaults={
            "donor_root": root,
            "decided_at": at,
            "capturable": {str(cid): cents for cid, cents in result.capturable.items()},
            "uncaptured_cents": result.uncaptured_cents,
            "reasons": list(result.reasons),
        },
    )
    return result
