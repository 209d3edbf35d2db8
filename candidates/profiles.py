"""Reads for a candidate's public page: where they stand on each public slate they were
invited to, and what is waiting for them there (from the maintained totals only)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse

from slate.models import Slate
from slate.selectors import PUBLIC_STATES, SlateProgress, breakdown_slice, slate_progress
from slate.totals import BreakdownCounts

from . import asks, selectors, votes
from .models import Candidate, CandidatePhoto, Invitation, Signature, SignerVote

# Invitations a public page shows: standing ones, and declines (made in public).
SHOWN_INVITATION_STATUSES = (*selectors.ACTIVE_INVITATION_STATUSES, Invitation.Status.DECLINED)


def public_candidates() -> QuerySet[Candidate]:
    """Candidates with a public page: invited to a public slate and not uninvited."""
    return Candidate.objects.filter(
        invitations__slate__state__in=PUBLIC_STATES,
        invitations__status__in=SHOWN_INVITATION_STATUSES,
    ).distinct()


def photo_url(candidate: Candidate) -> str:
    """The photo's address (with its hash, so a new photo is a new URL), or '' for initials."""
    sha = CandidatePhoto.objects.filter(candidate=candidate).values_list("sha256", flat=True)
    sha = sha.first()
    if sha is None:
        return ""
    return reverse("candidates:photo", args=[candidate.pk]) + f"?v={sha[:12]}"


def candidate_visible_to(candidate: Candidate, user) -> bool:
    """The public, and the candidate themself, organizers of a slate they were invited to, and
    staff (who may see a profile before its slate is published)."""
    if public_candidates().filter(pk=candidate.pk).exists():
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff or candidate.user_id == user.pk:
        return True
    return Invitation.objects.filter(candidate=candidate, slate__organizers=user).exists()


@dataclass(frozen=True)
class SlateStanding:
    """One slate on a candidate's public page."""

    slate: Slate
    invitation: Invitation
    signature: Signature | None  # a signature on the current version that counts
    earlier_signature: Signature | None  # still standing, on a version since replaced
    commitments: list[selectors.Commitment]
    progress: SlateProgress
    from_state: BreakdownCounts  # pledges from supporters in the candidate's state
    asks: int  # supporters who asked them to sign this slate
    votes: list[SignerVote]  # after the lock: their recorded votes, newest first

    @property
    def bloc(self) -> votes.BlocTally:
        return votes.tally(self.votes)

    @property
    def signed(self) -> bool:
        return self.signature is not None

    @property
    def declined(self) -> bool:
        return self.invitation.status == Invitation.Status.DECLINED


def slate_standings(candidate: Candidate, user=None) -> list[SlateStanding]:
    """Each slate the candidate was invited to that the viewer may see, soonest deadline first."""
    visible = Q(slate__state__in=PUBLIC_STATES)
    if user is not None and user.is_authenticated:
        visible |= Q(slate__organizers=user)
        if user.is_staff or candidate.user_id == user.pk:
            visible = Q()
    invitations = (
        Invitation.objects.filter(visible, candidate=candidate)
        .filter(status__in=SHOWN_INVITATION_STATUSES)
        .select_related("slate")
        .distinct()
        .order_by("slate__deadline", "slate_id")
    )
    recorded = votes.candidate_votes(candidate, [i.slate for i in invitations])
    standings = []
    for invitation in invitations:
        slate = invitation.slate
        signature = (
            selectors.valid_signatures(slate)
            .filter(candidate=candidate)
            .select_related("agreement_version")
            .first()
        )
        active = selectors.active_signature(candidate, slate)
        standings.append(
            SlateStanding(
                slate=slate,
                invitation=invitation,
                signature=signature,
                earlier_signature=active if signature is None else None,
                commitments=selectors.signature_commitments(signature) if signature else [],
                progress=slate_progress(slate),
                from_state=breakdown_slice(slate.pk, "state", candidate.state),
                asks=asks.ask_count(slate, candidate),
                votes=recorded.get(slate.pk, []),
            )
        )
    return standings
