"""Reads about candidates, invitations, agreements and signatures."""

from dataclasses import dataclass

from django.db.models import QuerySet

from slate.models import Slate

from .models import AgreementVersion, Candidate, Invitation, Signature

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
    """Recount what the slate's threshold rule needs to know about its candidates."""
    version = current_agreement_version(slate)
    signed_ids = set(valid_signatures(slate, version).values_list("candidate_id", flat=True))
    invitations = list(active_invitations(slate).values_list("candidate_id", "is_required"))
    required_unsigned = sum(
        1 for candidate_id, required in invitations if required and candidate_id not in signed_ids
    )
    return CandidateFacts(
        signed_candidate_count=len(signed_ids),
        invited_candidate_count=len(invitations),
        required_unsigned_count=required_unsigned,
        agreement_version_number=version.number if version else None,
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
    from django.db.models import Q

    from slate.selectors import PUBLIC_STATES

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
