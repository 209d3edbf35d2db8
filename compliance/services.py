"""Every write of the compliance app."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from pledges.models import Pledge

from .capping import CappedAllocation
from .contributions import contributions
from .declarations import DonorDetails
from .errors import ComplianceError
from .models import CaptureDecision, Donor, DonorDataAccess, DonorInfoRequest
from .rules import cycle_on
from .selectors import capped_allocation

FIELD_LABELS = {
    "first_name": "first name", "last_name": "last name", "street_1": "street address",
    "city": "city", "state": "state", "zip_code": "ZIP code", "employer": "employer",
    "occupation": "occupation",
}  # fmt: skip


def public_url(path: str) -> str:
    from django.conf import settings

    return getattr(settings, "SLATE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/") + path


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


# --- Donor details ----------------------------------------------------------------------------


@transaction.atomic
def update_donor_details(*, user, details: Mapping[str, object]) -> Donor:
    """The supporter fills in or corrects their contributor details (blank fields given
    clear nothing: details, once required, cannot be unset by omission)."""
    cleaned = DonorDetails.from_mapping(details).cleaned()
    donor = Donor.objects.select_for_update().get(pk=ensure_donor(user).pk)
    if donor.anonymized_at is not None:
        raise ComplianceError("anonymized", "This account's personal data has been deleted.")
    for name, value in cleaned.given().items():
        setattr(donor, name, value)
    donor.save()
    return donor


def request_missing_donor_details(*, now=None) -> int:
    """The "best efforts" follow-up: each donor whose giving to a candidate this cycle passed
    the itemization threshold and who has not given every detail is asked once per cycle.
    Returns how many emails went out."""
    now = now or timezone.now()
    cycle = cycle_on(timezone.localdate(now))
    if cycle is None:
        return 0
    roots: dict[int, int] = {}  # user id -> root donor id
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for contribution in contributions():
        if not cycle.starts_on <= timezone.localdate(contribution.received_at) <= cycle.ends_on:
            continue
        if contribution.supporter_id not in roots:
            roots[contribution.supporter_id] = ensure_donor_for_user_id(
                contribution.supporter_id
            ).root_id
        totals[(roots[contribution.supporter_id], contribution.candidate_id)] += (
            contribution.net_cents
        )
    over = sorted(
        {root for (root, _), cents in totals.items() if cents > cycle.itemization_threshold_cents}
    )
    sent = 0
    for donor in Donor.objects.filter(pk__in=over, anonymized_at__isnull=True).select_related(
        "user"
    ):
        missing = donor.missing_for_itemization()
        if not missing or not donor.user.email:
            continue
        try:
            with transaction.atomic():
                DonorInfoRequest.objects.create(donor=donor, cycle=cycle, missing=missing)
        except IntegrityError:
            continue  # asked already this cycle
        body = render_to_string(
            "compliance/email/details_request.txt",
            {"donor": donor, "missing": [FIELD_LABELS.get(m, m) for m in missing],
             "url": public_url("/account/donor-details/"), "cycle": cycle},
        )  # fmt: skip
        send_mail("Slate: details federal law asks us to request", body, None, [donor.user.email])
        sent += 1
    return sent


def ensure_donor_for_user_id(user_id: int) -> Donor:
    from django.contrib.auth import get_user_model

    existing = Donor.objects.filter(user_id=user_id).first()
    return existing or ensure_donor(get_user_model().objects.get(pk=user_id))


# --- Merging, audit ---------------------------------------------------------------------------


@transaction.atomic
def merge_donors(*, survivor: Donor, duplicates: Iterable[Donor], actor) -> Donor:
    """The same person under several accounts: their contributions add up from now on
    (limits, itemization, reports). ``survivor``'s details are the ones reported."""
    if not (actor.is_authenticated and actor.is_staff):
        raise ComplianceError("forbidden", "Only staff merge donors.")
    root = Donor.objects.select_for_update().get(pk=survivor.root_id)
    ids = {d.pk for d in duplicates} - {root.pk}
    if not ids:
        raise ComplianceError("nothing_to_merge", "Choose at least two different donors.")
    moved = Donor.objects.select_for_update().filter(Q(pk__in=ids) | Q(merged_into_id__in=ids))
    moved.exclude(pk=root.pk).update(merged_into=root)
    return root


def record_donor_data_access(
    *, actor, what: str, request=None, donor=None, candidate=None, slate=None, detail: str = ""
) -> DonorDataAccess:
    """Audit log: staff, an organizer or a treasurer saw donors' details."""
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return DonorDataAccess.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None, what=what,
        donor=donor, candidate=candidate, slate=slate, detail=detail[:500], ip_address=ip,
    )  # fmt: skip
