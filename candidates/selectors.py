"""Reads about candidates, invitations, agreements and signatures."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet, Value

from slate.models import Slate
from slate.selectors import PUBLIC_STATES

from .models import AgreementVersion, Candidate, Invitation, PlankCommitment, Signature

ACTIVE_INVITATION_STATUSES = (Invitation.Status.PENDING, Invitation.Status.ACCEPTED)


def current_agreement_version(slate: Slate) -> AgreementVersion | None:
    return (
        AgreementVersion.objects.filter(agreement__slate=slate, published_at__isnull=False)
        .order_by("-number")
        .first()
    )


def draft_agreement_version(slate: Slate) -> AgreementVersion | None:
    return (
        AgreementVersion.objects.filter(agreement__slate=slate, published_at__isnull=True)
        .order_by("-number")
        .first()
    )


def active_invitations(slate: Slate) -> QuerySet[Invitation]:
    return Invitation.objects.filter(slate=slate, status__in=ACTIVE_INVITATION_STATUSES)


def valid_signatures(slate: Slate, version: AgreementVersion | None = None) -> QuerySet[Signature]:
    """Active signatures on the slate's current agreement version by still-invited candidates."""
    version = version if version is not None else current_agreement_version(slate)
    if version is None:
        return Signature.objects.none()
    return Signature.objects.filter(
        slate=slate,
        agreement_version=version,
        withdrawn_at__isnull=True,
        candidate__invitations__slate=slate,
        candidate__invitations__status__in=ACTIVE_INVITATION_STATUSES,
    )


@dataclass(frozen=True)
class CandidateFacts:
    signed_candidate_count: int
    invited_candidate_count: int
    required_unsigned_count: int
    agreement_version_number: int | None


def candidate_facts(slate: Slate) -> CandidateFacts:
    """Recount what the slate's threshold rule needs to know about its candidates, in two
    queries: the current agreement version, then the slate's pending, accepted and declined
    invitations, each with whether its candidate holds a valid signature (as in
    ``valid_signatures``: active, on the current version; one invitation per candidate and
    slate, ``invitation_unique``)."""
    version = (
        AgreementVersion.objects.filter(agreement__slate=slate, published_at__isnull=False)
        .order_by("-number")
        .values_list("pk", "number")
        .first()
    )
    counted = Invitation.objects.filter(
        slate=slate, status__in=(*ACTIVE_INVITATION_STATUSES, Invitation.Status.DECLINED)
    ).order_by()
    if version is None:
        has_signed = Value(False)  # no signature counts before an agreement is published
    else:
        has_signed = Exists(
            Signature.objects.filter(
                slate=slate,
                agreement_version_id=version[0],
                withdrawn_at__isnull=True,
                candidate_id=OuterRef("candidate_id"),
            )
        )
    rows = counted.values_list("status", "is_required", has_signed)
    signed = invited = required_unsigned = 0
    for status, required, signed_it in rows:
        if status in ACTIVE_INVITATION_STATUSES:
            invited += 1
            signed += signed_it
            required_unsigned += required and not signed_it
        else:
            # A required candidate who declined is still required: the rule cannot hold
            # without them until the organizers withdraw that invitation (or they accept
            # after all).
            required_unsigned += required
    return CandidateFacts(
        signed_candidate_count=signed,
        invited_candidate_count=invited,
        required_unsigned_count=required_unsigned,
        agreement_version_number=version[1] if version else None,
    )


@dataclass(frozen=True)
class CandidateStanding:
    candidate: Candidate
    invitation: Invitation
    signature: Signature | None

    @property
    def signed(self) -> bool:
        return self.signature is not None


def slate_candidate_standings(slate: Slate) -> list[CandidateStanding]:
    """Each still-invited candidate with their valid signature, signed first."""
    signatures = {s.candidate_id: s for s in valid_signatures(slate)}
    invitations = active_invitations(slate).select_related("candidate")
    standings = [
        CandidateStanding(
            candidate=i.candidate, invitation=i, signature=signatures.get(i.candidate_id)
        )
        for i in invitations
    ]
    return sorted(standings, key=lambda s: (not s.signed, s.candidate.full_name))


def candidate_for_user(user) -> Candidate | None:
    if not user.is_authenticated:
        return None
    return Candidate.objects.filter(user=user).first()


def active_signature(candidate: Candidate, slate: Slate) -> Signature | None:
    return Signature.objects.filter(
        candidate=candidate, slate=slate, withdrawn_at__isnull=True
    ).first()


def candidates_visible_to(user) -> QuerySet[Candidate]:
    """Candidates invited to a public slate; plus, for an organizer, those invited to their
    slates, and the user's own profile. Staff see every profile."""
    if user.is_authenticated and user.is_staff:
        return Candidate.objects.all()
    query = Q(
        invitations__slate__state__in=PUBLIC_STATES,
        invitations__status__in=ACTIVE_INVITATION_STATUSES,
    )
    if user.is_authenticated:
        query |= Q(invitations__slate__organizers=user) | Q(user=user)
    return Candidate.objects.filter(query).distinct()


def published_agreement_versions(slate: Slate) -> QuerySet[AgreementVersion]:
    return AgreementVersion.objects.filter(
        agreement__slate=slate, published_at__isnull=False
    ).order_by("number")


def slate_invitations(slate: Slate) -> QuerySet[Invitation]:
    """Every invitation of a slate (revoked and declined too) with candidate and account."""
    return (
        Invitation.objects.filter(slate=slate)
        .select_related("candidate", "candidate__user")
        .order_by("candidate__full_name", "id")
    )


# --- Planks: who committed to what ------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    candidate: Candidate
    text: str


@dataclass(frozen=True)
class PlankTally:
    position: int
    title: str
    text: str
    committed: int  # signers of the current version who committed, with a reservation or not
    invited: int  # candidates still invited: "7 of 8 committed"
    reservations: list[Reservation] = field(default_factory=list)


def plank_tallies(slate: Slate) -> list[PlankTally]:
    """Each plank of the current agreement version with how many still-invited candidates
    committed to it by signing that version (one query for the commitments)."""
    version = current_agreement_version(slate)
    if version is None:
        return []
    commitments = (
        PlankCommitment.objects.filter(signature__in=valid_signatures(slate, version))
        .select_related("signature__candidate")
        .order_by("signature__candidate__full_name", "position")
    )
    committed: dict[int, int] = defaultdict(int)
    reservations: dict[int, list[Reservation]] = defaultdict(list)
    for commitment in commitments:
        committed[commitment.position] += 1
        if commitment.choice == PlankCommitment.Choice.RESERVED:
            reservations[commitment.position].append(
                Reservation(candidate=commitment.signature.candidate, text=commitment.reservation)
            )
    invited = active_invitations(slate).count()
    return [
        PlankTally(
            position=position,
            title=plank["title"],
            text=plank["text"],
            committed=committed[position],
            invited=invited,
            reservations=reservations[position],
        )
        for position, plank in version.numbered_planks()
    ]


@dataclass(frozen=True)
class Commitment:
    position: int
    title: str
    choice: str
    reservation: str

    @property
    def reserved(self) -> bool:
        return self.choice == PlankCommitment.Choice.RESERVED


def signature_commitments(signature: Signature) -> list[Commitment]:
    """A signer's word on each plank of the version they signed, in the version's order."""
    planks = signature.agreement_version.planks
    return [
        Commitment(
            position=c.position,
            title=planks[c.position - 1]["title"],
            choice=c.choice,
            reservation=c.reservation,
        )
        for c in signature.commitments.order_by("position")
    ]


def commitments_by_candidate(slate: Slate) -> dict[int, list[Commitment]]:
    """candidate id -> their commitments on the current version (valid signatures only)."""
    version = current_agreement_version(slate)
    if version is None:
        return {}
    found: dict[int, list[Commitment]] = defaultdict(list)
    commitments = PlankCommitment.objects.filter(
        signature__in=valid_signatures(slate, version)
    ).select_related("signature")
    for c in commitments.order_by("position"):
        found[c.signature.candidate_id].append(
            Commitment(
                position=c.position,
                title=version.planks[c.position - 1]["title"],
                choice=c.choice,
                reservation=c.reservation,
            )
        )
    return dict(found)


# --- Declines and whether the rule can still be met -------------------------------------------


def declined_invitations(slate: Slate) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(slate=slate, status=Invitation.Status.DECLINED)
        .select_related("candidate")
        .order_by("responded_at", "id")
    )


@dataclass(frozen=True)
class RuleReach:
    """Whether the signature part of the rule can still hold, given the declines."""

    needed: int  # K in "at least K sign"
    signed: int
    could_still_sign: int  # invited, standing, not yet signed
    declined: list[Invitation]
    declined_required: list[Invitation]

    @property
    def most_possible(self) -> int:
        return self.signed + self.could_still_sign

    @property
    def reachable(self) -> bool:
        return self.most_possible >= self.needed and not self.declined_required


def rule_reach(slate: Slate, standings: list[CandidateStanding] | None = None) -> RuleReach:
    """``standings``: ``slate_candidate_standings(slate)`` when the caller has read them (the
    organizer dashboard has), so the agreement version, signatures and invitations are not
    read a second time."""
    if standings is None:
        facts = candidate_facts(slate)
        signed, invited = facts.signed_candidate_count, facts.invited_candidate_count
    else:
        # The same count: a valid signature's candidate always holds an active invitation.
        signed, invited = sum(1 for s in standings if s.signed), len(standings)
    declined = list(declined_invitations(slate))
    return RuleReach(
        needed=slate.threshold_min_signatures,
        signed=signed,
        could_still_sign=invited - signed,
        declined=declined,
        declined_required=[i for i in declined if i.is_required],
    )
