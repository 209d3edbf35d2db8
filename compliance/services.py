"""Every write of the compliance app."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from pledges.models import Pledge
from slate import mail
from slate.links import public_url

from .capping import CappedAllocation
from .contributions import contributions
from .donor_details import DonorDetails
from .errors import ComplianceError
from .models import CaptureDecision, Donor, DonorDataAccess, DonorInfoRequest
from .rules import cycle_on
from .selectors import CaptureContext, capped_allocation

FIELD_LABELS = {
    "first_name": "first name", "last_name": "last name", "street_1": "street address",
    "city": "city", "state": "state", "zip_code": "ZIP code", "employer": "employer",
    "occupation": "occupation",
}  # fmt: skip


__all__ = ["ComplianceError", "decide_capture", "ensure_donor", "ensure_donors"]


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


def ensure_donors(user_ids: Iterable[int]) -> None:
    """Every one of these accounts has its donor record (two queries for any number): a
    release makes sure of its chunk's donors before deciding their captures one by one."""
    missing = (
        get_user_model()
        .objects.filter(pk__in=list(user_ids))
        .exclude(pk__in=Donor.objects.values("user_id"))
        .values_list("pk", "email")
    )
    donors = [Donor(user_id=pk, email=email or "") for pk, email in missing]
    for donor in donors:
        donor.identity_key = donor.compute_identity_key()  # what save() would do
    # A donor created meanwhile (the supporter pledging again) wins; ours is dropped.
    Donor.objects.bulk_create(donors, ignore_conflicts=True)


def lock_donor_group(user_id: int) -> tuple[int, list[int]]:
    """Row-lock the root donor of the account's group (captures of one donor's pledges are
    decided one at a time) and return its id and every account of the group: two queries
    when the donor record exists. Locked first, read second, so a merge that commits while
    we wait for the lock is seen."""
    root_of_user = Donor.objects.filter(user_id=user_id).values(
        root=Coalesce("merged_into_id", "id")
    )[:1]
    root_id = (
        Donor.objects.select_for_update()
        .filter(pk=Subquery(root_of_user))
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )
    if root_id is None:
        root_id = lock_donor_root(get_user_model().objects.get(pk=user_id)).pk
    group = Donor.objects.filter(Q(pk=root_id) | Q(merged_into_id=root_id)).order_by()
    return root_id, sorted(set(group.values_list("user_id", flat=True)) | {user_id})


def decide_capture(
    *,
    pledge: Pledge,
    planned: Mapping[int, int],
    at: datetime,
    signed_candidate_ids: Iterable[int] | None = None,
    context: CaptureContext | None = None,
) -> CappedAllocation:
    """``compliance.selectors.capped_allocation`` under the donor's row lock, recorded as the
    pledge's ``CaptureDecision`` (replacing an earlier one), so that concurrent captures of
    the same donor's other pledges count this one until its capture reaches the ledger.
    Call it before asking Stripe to capture; capture ``result.total_cents`` and credit
    ``result.capturable``. Takes the donor lock after whatever the caller holds (slate,
    pledge, payment), so it never waits while holding it. ``context``: the rules and
    candidates read once for many decisions (``compliance.selectors.capture_context``).

    Runs in the caller's transaction when there is one (the lock must last until the
    caller's capture intent is committed), else in its own; no savepoint either way."""
    with transaction.atomic(savepoint=False):
        root_id, user_ids = lock_donor_group(pledge.supporter_id)
        result = capped_allocation(
            pledge, planned, at=at, signed_candidate_ids=signed_candidate_ids,
            user_ids=user_ids, context=context,
        )  # fmt: skip
        # One upsert, not update_or_create's read and savepoints: this runs for every pledge
        # a release captures.
        CaptureDecision.objects.bulk_create(
            [
                CaptureDecision(
                    pledge=pledge,
                    donor_root_id=root_id,
                    decided_at=at,
                    capturable={str(cid): cents for cid, cents in result.capturable.items()},
                    uncaptured_cents=result.uncaptured_cents,
                    reasons=list(result.reasons),
                )
            ],
            update_conflicts=True,
            unique_fields=["pledge"],
            update_fields=["donor_root", "decided_at", "capturable", "uncaptured_cents", "reasons"],
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
        sent += mail.send(
            mail.Email(
                to=donor.user.email,
                subject="Slate: details federal law asks us to request",
                template="compliance/email/details_request.txt",
                context={"donor": donor, "missing": [FIELD_LABELS.get(m, m) for m in missing],
                         "url": public_url("/account/donor-details/"), "cycle": cycle},
                reason="your pledges this cycle passed the amount federal law asks us to report",
            )
        )  # fmt: skip
    return sent


def ensure_donor_for_user_id(user_id: int) -> Donor:
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
