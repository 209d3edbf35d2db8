"""The compliance side of a money pledge, called by ``pledges.intake.create_money_pledge``:
``check_money_pledge`` before anything is written (attestations, disclosed conditions, donor
details, limits), ``record_declaration`` in the same transaction once the pledge exists."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from candidates.models import Candidate
from pledges.declarations import (
    ATTESTATION_TEXT,
    check_attestations,
    check_conditions_seen,
    personal_conditions_text,
)
from pledges.models import Pledge

from .contributions import contributions, donor_group_user_ids
from .donor_details import DonorDetails
from .errors import ComplianceError
from .models import Donor, PledgeDeclaration
from .rules import RuleBook
from .selectors import PledgeLimitPreview, donor_annotations, pledge_limit_preview
from .services import FIELD_LABELS, ensure_donor


@dataclass(frozen=True)
class CheckedPledge:
    attestations: dict[str, bool]
    details: DonorDetails
    conditions_text: str
    allow_reallocation: bool
    preview: PledgeLimitPreview
    donor: Donor | None = None  # the supporter's, as read for the check (None: not yet one)


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def describe_caps(preview: PledgeLimitPreview) -> str:
    parts = [
        f"{line.candidate}: {_money(line.capped_cents)} of your {_money(line.planned_cents)} "
        f"share is over the limit (you can still give {_money(line.headroom_cents or 0)})"
        for line in preview.capped_lines
    ]
    tail = (
        "That excess would go to the other signed candidates."
        if preview.result.reallocated
        else "That excess will not be charged."
    )
    return "; ".join(parts) + ". " + tail


def details_needed(
    *, supporter, preview: PledgeLimitPreview, details: DonorDetails, at=None
) -> list[str]:
    """The contributor fields still missing when this pledge would take the donor's giving
    to some candidate this cycle above the itemization threshold; else []."""
    at = at or timezone.now()
    rules = preview.rules or RuleBook()
    cycle = rules.cycle_on(timezone.localdate(at))
    if cycle is None:
        return []
    missing = [name for name in FIELD_LABELS if not getattr(details, name)]
    if not missing:
        return []
    if preview.rules is not None:  # what the preview read: the donor's accounts and giving
        given = preview.given
    else:
        given = contributions(
            user_ids=donor_group_user_ids(supporter.pk),
            candidate_ids=[line.candidate.pk for line in preview.lines],
        )
    in_cycle: dict[int, int] = defaultdict(int)
    for contribution in given:
        if cycle.starts_on <= timezone.localdate(contribution.received_at) <= cycle.ends_on:
            in_cycle[contribution.candidate_id] += contribution.net_cents
    for line in preview.lines:
        share = preview.result.capturable.get(line.candidate.pk, 0)
        if share and in_cycle[line.candidate.pk] + share > cycle.itemization_threshold_cents:
            return missing
    return []


def check_money_pledge(
    *,
    supporter,
    slate,
    amount_cents: int,
    candidate_ids: list[int],
    weights: Mapping[int, int] | None,
    attestations: Mapping[str, object] | None,
    donor_details: Mapping[str, object] | None,
    allow_reallocation: bool,
    accept_limit_cap: bool,
    conditions_digest: str | None,
    condition_min_signatures: int | None,
    required_candidate_ids: list[int],
    invitations: list | None = None,
) -> CheckedPledge:
    """Everything compliance refuses a pledge for, as ComplianceErrors naming the field.
    ``invitations``: every invitation of the slate with its candidate, oldest first, if the
    caller read them (the candidates and the conditions text come from them then)."""
    attested = check_attestations(attestations)
    slate_text = check_conditions_seen(slate, conditions_digest, invitations)
    given = DonorDetails.from_mapping(donor_details or {}).cleaned()
    existing = Donor.objects.filter(user_id=supporter.pk).annotate(**donor_annotations()).first()
    known = {name: getattr(existing, name) for name in FIELD_LABELS if existing is not None} | {
        "street_2": existing.street_2 if existing else ""
    }
    details = DonorDetails(**(known | given.given()))
    if invitations is not None:
        wanted = set(candidate_ids)
        candidates = sorted(
            (i.candidate for i in invitations if i.candidate_id in wanted), key=lambda c: c.pk
        )
    else:
        candidates = list(Candidate.objects.filter(pk__in=candidate_ids).order_by("pk"))
    preview = pledge_limit_preview(
        supporter=supporter, candidates=candidates, amount_cents=amount_cents,
        weights=weights, allow_reallocation=bool(allow_reallocation), donor=existing,
    )  # fmt: skip
    if candidates and preview.nothing_fits:
        raise ComplianceError(
            "limit_reached",
            "You have already given every candidate on this slate the most the law allows "
            "for this election, so this pledge could not be charged.",
            field="amount_cents",
        )
    if preview.capped_lines and not accept_limit_cap:
        raise ComplianceError(
            "limit_cap_notice",
            "Part of this pledge is over the contribution limit: " + describe_caps(preview)
            + " Confirm to pledge anyway, or lower the amount.",
            field="accept_limit_cap",
        )  # fmt: skip
    missing = details_needed(supporter=supporter, preview=preview, details=details)
    if missing:
        raise ComplianceError(
            "donor_details_required",
            "With this pledge you give a candidate more than $200 this election cycle, so "
            "federal law asks for your name, address, employer and occupation. Missing: "
            + ", ".join(FIELD_LABELS[name] for name in missing) + ".",
            field=missing[0],
        )  # fmt: skip
    if invitations is not None:
        by_id = {i.candidate_id: i.candidate for i in invitations}
        required = [by_id[cid] for cid in required_candidate_ids if cid in by_id]
        names = [str(c) for c in sorted(required, key=lambda c: (c.full_name, c.pk))]
    else:
        names = [str(c) for c in Candidate.objects.filter(pk__in=required_candidate_ids)]
    conditions = (
        slate_text
        + "\n"
        + personal_conditions_text(
            min_signatures=condition_min_signatures, required_names=names,
            allow_reallocation=bool(allow_reallocation),
        )
    )  # fmt: skip
    return CheckedPledge(
        attestations=attested, details=given, conditions_text=conditions,
        allow_reallocation=bool(allow_reallocation), preview=preview, donor=existing,
    )  # fmt: skip


def record_declaration(
    *, pledge: Pledge, checked: CheckedPledge, new_pledge: bool = False
) -> PledgeDeclaration:
    """In the pledge's transaction: the donor's new details, then the immutable record.
    ``new_pledge``: the pledge was inserted in this transaction, so it has no record yet, and
    the caller retries its whole transaction when an insert collides (here: the supporter's
    first donor record, made at the same moment by another of their pledges), so the donor
    is inserted without a savepoint."""
    if not new_pledge:
        existing = PledgeDeclaration.objects.filter(pledge=pledge).first()
        if existing is not None:  # the same pledge returned again for its idempotency key
            return existing
    donor = checked.donor
    changed = checked.details.given()
    if donor is None and new_pledge:
        # The supporter's first donor record, with the details they gave, in one insert.
        donor = Donor.objects.create(
            user=pledge.supporter, email=pledge.supporter.email or "", **changed
        )
        changed = {}
    elif donor is None:
        donor = ensure_donor(pledge.supporter)
    if changed:
        for name, value in changed.items():
            setattr(donor, name, value)
        donor.save()
    return PledgeDeclaration.objects.create(
        pledge=pledge, donor=donor, **checked.attestations,
        attestation_text=ATTESTATION_TEXT, disclosed_conditions=checked.conditions_text,
        allow_reallocation=checked.allow_reallocation,
    )  # fmt: skip
