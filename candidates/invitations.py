"""Inviting candidates to a slate, emailing their invitation link, withdrawing an
invitation, and the candidate's answer (accepted, or declined in public). Each runs under the
slate's exclusive lock and recounts the slate's candidate facts."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from slate import selectors as slate_selectors
from slate.models import Slate
from slate.queue import enqueue_named_on_commit
from slate.text import clean_text

from . import selectors
from .models import Candidate, Invitation
from .services import (
    CandidateError,
    create_candidate,
    lock_slate,
    refresh_candidate_facts,
    require_changeable,
    require_organizer,
)


@transaction.atomic
def invite_candidate(
    *, slate: Slate, candidate: Candidate, actor, is_required: bool = False
) -> Invitation:
    slate = lock_slate(slate)
    require_organizer(actor, slate)
    require_changeable(slate)
    invitation, created = Invitation.objects.get_or_create(
        slate=slate,
        candidate=candidate,
        defaults={"invited_by": actor, "is_required": is_required},
    )
    if not created:
        if invitation.counts_toward_slate:
            raise CandidateError(
                "already_invited", f"{candidate} is already invited.", field="candidate"
            )
        invitation.status = Invitation.Status.PENDING
        invitation.is_required = is_required
        invitation.invited_by = actor
        invitation.responded_at = None
        invitation.save(update_fields=["status", "is_required", "invited_by", "responded_at"])
    refresh_candidate_facts(slate)
    return invitation


@transaction.atomic
def invite_new_candidate(
    *, slate: Slate, actor, is_required: bool = False, notify_email: str = "", **profile: str
) -> Invitation:
    """Create a candidate profile and invite it, both or neither (the wizard's one step);
    with ``notify_email``, the invitation link is emailed there after commit."""
    if not slate_selectors.is_organizer(actor, slate):
        raise CandidateError("forbidden", "Only this slate's organizers may do that.")
    candidate = create_candidate(created_by=actor, **profile)
    invitation = invite_candidate(
        slate=slate, candidate=candidate, actor=actor, is_required=is_required
    )
    if notify_email:
        send_invitation_link(invitation=invitation, email=notify_email, actor=actor)
    return invitation


@transaction.atomic
def send_invitation_link(*, invitation: Invitation, email: str, actor) -> None:
    """Email the invitation link (after commit, by Celery) while nobody has claimed it. The
    address is used once and not stored: the profile is tied to whoever claims it."""
    require_organizer(actor, invitation.slate)
    email = clean_text(email, field="email", error=CandidateError, max_length=254, required=True)
    try:
        validate_email(email)
    except ValidationError:
        raise CandidateError(
            "invalid_email", "Enter a valid email address.", field="email"
        ) from None
    if not invitation.counts_toward_slate:
        raise CandidateError("invitation_closed", "This invitation was withdrawn or declined.")
    if invitation.candidate.user_id is not None:
        raise CandidateError("already_claimed", f"{invitation.candidate} has already claimed it.")
    enqueue_named_on_commit("candidates.tasks.email_invitation_link", invitation.pk, email)


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor) -> Invitation:
    slate = lock_slate(invitation.slate)
    require_organizer(actor, slate)
    require_changeable(slate)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if selectors.active_signature(invitation.candidate, slate) is not None:
        raise CandidateError(
            "signed", "A candidate who has signed cannot be uninvited.", field="candidate"
        )
    invitation.status = Invitation.Status.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    refresh_candidate_facts(slate)
    return invitation


MAX_DECLINE_REASON_CHARS = 500


@transaction.atomic
def respond_to_invitation(
    *, invitation: Invitation, user, accept: bool, reason: str = ""
) -> Invitation:
    """Accept, or decline in public with an optional reason shown on the slate page. A
    required candidate's decline keeps the slate from locking until the organizers withdraw
    that invitation (``candidate_facts`` counts it as required and unsigned)."""
    slate = lock_slate(invitation.slate)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("candidate")
        .get(pk=invitation.pk)
    )
    if invitation.candidate.user_id != user.pk:
        raise CandidateError("forbidden", "Only the invited candidate may answer this invitation.")
    require_changeable(slate)
    if invitation.status == Invitation.Status.REVOKED:
        raise CandidateError("revoked", "This invitation was withdrawn by the organizers.")
    if not accept and selectors.active_signature(invitation.candidate, slate) is not None:
        raise CandidateError("signed", "Withdraw your signature before declining.")
    if not accept and invitation.status == Invitation.Status.DECLINED:
        raise CandidateError("already_declined", "You have already declined this invitation.")
    reason = clean_text(
        reason, field="reason", error=CandidateError, max_length=MAX_DECLINE_REASON_CHARS
    )
    invitation.status = Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.decline_reason = "" if accept else reason
    invitation.save(update_fields=["status", "responded_at", "decline_reason"])
    refresh_candidate_facts(slate)
    return invitation
