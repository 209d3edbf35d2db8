"""Taking pledges: money (refused before anything is written unless attested, within the
slate's conditions and the contribution rules compliance answers through
``pledges.intake_policy``), volunteer hours and sign-ons. Each starts in its kind's first
state through ``pledges.services.apply_state_change``, under the slate's shared lock, and a
repeat with the same idempotency key returns the first pledge."""

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction

from candidates.models import Candidate
from slate.models import PartnerCode, PartnerOrganization, Slate
from slate.text import clean_text

from .declarations import check_attestations
from .intake_policy import money_pledge_policy
from .models import PUBLIC_NAME_MAX_LENGTH, Pledge, PledgeAllocation
from .services import apply_state_change, lock_slate_shared
from .states import INITIAL_STATE_BY_KIND, PledgeKind, PledgeState
from .validation import (
    PledgeError,
    check_allocation,
    check_amount,
    check_conditions,
    check_referral,
    check_volunteer_offer,
    clean_partner_code,
    clean_supporter_state,
    invited_among,
    slate_invitations,
)


def _require_accepting(slate: Slate) -> None:
    if not slate.accepts_commitments():
        raise PledgeError(
            "slate_closed", "This slate is not accepting pledges right now.", field="slate"
        )


def _clean_key(idempotency_key: str) -> str:
    return clean_text(idempotency_key, field="idempotency_key", error=PledgeError, max_length=64)


def _existing_for_key(supporter, idempotency_key: str) -> Pledge | None:
    idempotency_key = _clean_key(idempotency_key)
    if not idempotency_key:
        return None
    return Pledge.objects.filter(supporter=supporter, idempotency_key=idempotency_key).first()


def _insert(pledge: Pledge, *, actor, reason: str) -> Pledge:
    """Write a new volunteer pledge or sign-on in its first state. No savepoint of its own:
    an insert that collides (the same idempotency key sent twice at once, or a second live
    sign-on) rolls back the atomic block of the function calling this (a savepoint, when that
    runs inside another transaction), and the public function around that block finds the
    first pledge (or refuses the second sign-on) after the rollback."""
    pledge.save(force_insert=True)
    apply_state_change(pledge, None, actor=actor, reason=reason)
    return pledge


def create_money_pledge(
    *,
    supporter,
    slate: Slate,
    amount_cents: int,
    supporter_state: str = "",
    condition_min_signatures: int | None = None,
    condition_candidate_ids: Iterable[int] = (),
    allocation: Mapping[int, int] | None = None,
    referred_by: PartnerOrganization | None = None,
    partner_code: PartnerCode | None = None,
    idempotency_key: str = "",
    attestations: Mapping[str, bool] | None = None,
    donor_details: Mapping[str, str] | None = None,
    allow_reallocation: bool = False,
    accept_limit_cap: bool = False,
    conditions_digest: str | None = None,
) -> Pledge:
    """A money pledge starts in ``pending_card``; the escrow app commits it once Stripe has
    saved the card. ``allocation`` maps candidate ids to basis points summing to 10000.

    It is refused, before anything is written, without the five ``attestations``
    (``pledges.declarations.ATTESTATION_NAMES``, all True); and by the contribution rules
    (compliance's, asked through ``pledges.intake_policy``) when the slate's conditions
    changed since the page showed them (``conditions_digest``), when the donor's giving
    would pass the itemization threshold without ``donor_details``, or when part of it is
    over a candidate's limit and ``accept_limit_cap`` is not set. The
    attestations, the exact conditions and ``allow_reallocation`` (consent that money over a
    limit goes to the other signed candidates) are stored with the pledge, immutable.

    Sent again with the same ``idempotency_key`` it returns the first pledge, whatever the
    checks would now say: the key is looked up only when something refuses or collides, so a
    new pledge pays no query for it. Its one transaction takes no savepoint: when an insert
    collides with a concurrent one (the same key sent twice at once, or the supporter's first
    donor record made by another of their pledges), the whole transaction rolls back and the
    pledge is found, or made once more."""
    arguments = dict(
        supporter=supporter, slate=slate, amount_cents=amount_cents,
        supporter_state=supporter_state, condition_min_signatures=condition_min_signatures,
        condition_candidate_ids=condition_candidate_ids, allocation=allocation,
        referred_by=referred_by, partner_code=partner_code,
        idempotency_key=_clean_key(idempotency_key),
        attestations=attestations, donor_details=donor_details,
        allow_reallocation=allow_reallocation, accept_limit_cap=accept_limit_cap,
        conditions_digest=conditions_digest,
    )  # fmt: skip
    key = arguments["idempotency_key"]
    try:
        return _create_money_pledge(**arguments)
    except PledgeError:
        existing = _existing_for_key(supporter, key)
        if existing is not None:
            return existing
        raise
    except IntegrityError:
        existing = _existing_for_key(supporter, key)
        if existing is not None:
            return existing
    return _create_money_pledge(**arguments)


@transaction.atomic
def _create_money_pledge(
    *, supporter, slate: Slate, amount_cents: int, supporter_state: str,
    condition_min_signatures: int | None, condition_candidate_ids: Iterable[int],
    allocation: Mapping[int, int] | None, referred_by: PartnerOrganization | None,
    partner_code: PartnerCode | None, idempotency_key: str, attestations: Mapping[str, bool] | None,
    donor_details: Mapping[str, str] | None, allow_reallocation: bool, accept_limit_cap: bool,
    conditions_digest: str | None,
) -> Pledge:  # fmt: skip
    # The rules are compliance's; asked for first, so a missing policy refuses every pledge.
    policy = money_pledge_policy.get()
    check_attestations(attestations)
    check_amount(amount_cents)
    slate = lock_slate_shared(slate)
    _require_accepting(slate)
    invitations = slate_invitations(slate)
    invited = invited_among(invitations)
    required_ids = check_conditions(
        slate, condition_min_signatures, condition_candidate_ids, invited
    )
    weights = check_allocation(allocation, invited)
    check_referral(referred_by, slate)
    checked = policy.check(
        supporter=supporter, slate=slate, amount_cents=amount_cents,
        candidate_ids=sorted(invited), weights=weights or None, attestations=attestations,
        donor_details=donor_details, allow_reallocation=allow_reallocation,
        accept_limit_cap=accept_limit_cap, conditions_digest=conditions_digest,
        condition_min_signatures=condition_min_signatures, required_candidate_ids=required_ids,
        invitations=invitations,
    )  # fmt: skip
    pledge = Pledge(
        supporter=supporter,
        slate=slate,
        kind=PledgeKind.MONEY,
        state=INITIAL_STATE_BY_KIND[PledgeKind.MONEY],
        amount_cents=amount_cents,
        supporter_state=clean_supporter_state(supporter_state),
        condition_min_signatures=condition_min_signatures,
        referred_by=referred_by,
        partner_code=clean_partner_code(partner_code, referred_by),
        idempotency_key=idempotency_key,
    )
    pledge.save(force_insert=True)  # a collision rolls the whole transaction back (above)
    apply_state_change(pledge, None, actor=supporter, reason="pledged")
    if required_ids:
        pledge.condition_required_candidates.set(Candidate.objects.filter(pk__in=required_ids))
    PledgeAllocation.objects.bulk_create(
        PledgeAllocation(pledge=pledge, candidate_id=cid, weight_bps=w)
        for cid, w in weights.items()
    )
    policy.record(pledge=pledge, checked=checked)
    return pledge


def create_volunteer_pledge(
    *,
    supporter,
    slate: Slate,
    hours: int,
    activities: Iterable[str],
    zip_code: str,
    availability: str = "",
    supporter_state: str = "",
    referred_by: PartnerOrganization | None = None,
    partner_code: PartnerCode | None = None,
    idempotency_key: str = "",
) -> Pledge:
    """A volunteer pledge, ``committed`` at once. Sent again with the same
    ``idempotency_key`` it returns the first pledge: found before anything is written, or,
    when the two arrive at once, after the second one's insert collides and its transaction
    rolls back."""
    try:
        return _create_volunteer_pledge(
            supporter=supporter, slate=slate, hours=hours, activities=activities,
            zip_code=zip_code, availability=availability, supporter_state=supporter_state,
            referred_by=referred_by, partner_code=partner_code, idempotency_key=idempotency_key,
        )  # fmt: skip
    except IntegrityError:
        existing = _existing_for_key(supporter, idempotency_key)
        if existing is not None:
            return existing
        raise


@transaction.atomic
def _create_volunteer_pledge(
    *, supporter, slate: Slate, hours: int, activities: Iterable[str], zip_code: str,
    availability: str, supporter_state: str, referred_by: PartnerOrganization | None,
    partner_code: PartnerCode | None, idempotency_key: str,
) -> Pledge:  # fmt: skip
    existing = _existing_for_key(supporter, idempotency_key)
    if existing is not None:
        return existing
    activities, zip_code, availability = check_volunteer_offer(
        hours=hours, activities=activities, zip_code=zip_code, availability=availability
    )
    slate = lock_slate_shared(slate)
    _require_accepting(slate)
    check_referral(referred_by, slate)
    return _insert(
        Pledge(
            supporter=supporter,
            slate=slate,
            kind=PledgeKind.VOLUNTEER,
            state=INITIAL_STATE_BY_KIND[PledgeKind.VOLUNTEER],
            hours=hours,
            activities=activities,
            zip_code=zip_code,
            availability=availability,
            supporter_state=clean_supporter_state(supporter_state),
            referred_by=referred_by,
            partner_code=clean_partner_code(partner_code, referred_by),
            idempotency_key=idempotency_key or "",
        ),
        actor=supporter,
        reason="volunteered",
    )


def sign_on(
    *,
    supporter,
    slate: Slate,
    supporter_state: str = "",
    referred_by: PartnerOrganization | None = None,
    partner_code: PartnerCode | None = None,
    public_name: str = "",
) -> Pledge:
    """Add the supporter's name to the slate; ``public_name`` ("Jane D.") lists it on the
    public roll. Signing on twice returns the first sign-on (listed if either time asked); two
    sign-ons of one supporter at once: the second is refused once the first commits (its
    insert collides with the first's, and its transaction rolls back)."""
    try:
        return _sign_on(
            supporter=supporter, slate=slate, supporter_state=supporter_state,
            referred_by=referred_by, partner_code=partner_code, public_name=public_name,
        )  # fmt: skip
    except IntegrityError:
        if _live_sign_on(slate, supporter).exists():
            raise PledgeError(
                "already_signed_on", "You have already signed on to this slate."
            ) from None
        raise


def _live_sign_on(slate: Slate, supporter):
    return Pledge.objects.filter(
        slate=slate, supporter=supporter, kind=PledgeKind.SIGNON, state=PledgeState.COMMITTED
    )


@transaction.atomic
def _sign_on(
    *, supporter, slate: Slate, supporter_state: str, referred_by: PartnerOrganization | None,
    partner_code: PartnerCode | None, public_name: str,
) -> Pledge:  # fmt: skip
    public_name = public_name[:PUBLIC_NAME_MAX_LENGTH]
    slate = lock_slate_shared(slate)
    existing = _live_sign_on(slate, supporter).select_for_update().first()
    if existing is not None:
        if public_name and not existing.public_name:
            existing.public_name = public_name
            existing.save(update_fields=["public_name", "updated_at"])
        return existing
    _require_accepting(slate)
    check_referral(referred_by, slate)
    return _insert(
        Pledge(
            supporter=supporter,
            slate=slate,
            kind=PledgeKind.SIGNON,
            state=INITIAL_STATE_BY_KIND[PledgeKind.SIGNON],
            supporter_state=clean_supporter_state(supporter_state),
            referred_by=referred_by,
            partner_code=clean_partner_code(partner_code, referred_by),
            public_name=public_name,
        ),
        actor=supporter,
        reason="signed on",
    )
