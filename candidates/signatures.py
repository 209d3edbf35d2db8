"""Signatures: a verified, invited candidate signs the current agreement version, committing
to each plank (plainly or with a public reservation), or withdraws before the slate locks."""

import unicodedata
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from slate.events import signature_changed
from slate.models import Slate
from slate.states import SlateState
from slate.text import clean_text, printable_header

from . import selectors
from .models import AgreementVersion, Candidate, Invitation, PlankCommitment, Signature
from .services import CandidateError, lock_slate, refresh_candidate_facts

MAX_RESERVATION_CHARS = 500


def _clean_reservations(
    version: AgreementVersion, reservations: Mapping[int, str] | None
) -> dict[int, str]:
    """Position -> reservation text, for the planks the signer commits to with a reservation.
    Every other plank of the version is committed to without one."""
    cleaned = {}
    for position, text in (reservations or {}).items():
        if not isinstance(position, int) or not 1 <= position <= len(version.planks):
            raise CandidateError(
                "unknown_plank", "That plank is not in this version of the agreement."
            )
        cleaned[position] = clean_text(
            text, field=f"plank_{position}_reservation", error=CandidateError,
            max_length=MAX_RESERVATION_CHARS, required=True,
            required_message="Say what your reservation is; it is shown publicly.",
        )  # fmt: skip
    return cleaned


def _normalized_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").casefold().split())


@transaction.atomic
def sign_agreement(
    *,
    candidate: Candidate,
    slate: Slate,
    agreement_version_id: int,
    typed_name: str,
    signer,
    ip_address: str | None = None,
    user_agent: str = "",
    reservations: Mapping[int, str] | None = None,
) -> Signature:
    """Sign the current version, committing to each of its planks: plainly, or, for the
    positions in ``reservations``, with the reservation given (shown publicly)."""
    slate = lock_slate(slate)
    candidate = Candidate.objects.get(pk=candidate.pk)
    if not signer.is_authenticated or candidate.user_id != signer.pk:
        raise CandidateError("forbidden", "A candidate signs only for themself.")
    if not candidate.verified:
        raise CandidateError(
            "unverified", "Your profile must be verified by an organizer before you sign."
        )
    if not slate.accepts_commitments():
        raise CandidateError(
            "slate_closed", "This slate is not accepting signatures.", field="slate"
        )
    invitation = (
        Invitation.objects.select_for_update().filter(slate=slate, candidate=candidate).first()
    )
    if invitation is None or not invitation.counts_toward_slate:
        raise CandidateError("not_invited", "You are not invited to this slate.", field="slate")
    current = selectors.current_agreement_version(slate)
    if current is None or current.pk != agreement_version_id:
        raise CandidateError(
            "stale_version",
            "That is not the current version of the agreement; read the current one and sign it.",
            field="agreement_version",
        )
    typed_name = clean_text(
        typed_name, field="typed_name", error=CandidateError, max_length=200, required=True,
        required_message="Type your full name to sign.",
    )  # fmt: skip
    if _normalized_name(typed_name) != _normalized_name(candidate.full_name):
        raise CandidateError(
            "name_mismatch",
            f"Type your full name exactly as {candidate.full_name!r}.",
            field="typed_name",
        )
    reservations = _clean_reservations(current, reservations)
    existing = selectors.active_signature(candidate, slate)
    if existing is not None:
        if existing.agreement_version_id == current.pk:
            raise CandidateError("already_signed", "You have already signed this version.")
        existing.withdrawn_at = timezone.now()
        existing.withdrawal_reason = f"superseded by version {current.number}"
        existing.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    if invitation.status == Invitation.Status.PENDING:
        invitation.status = Invitation.Status.ACCEPTED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                candidate=candidate,
                slate=slate,
                agreement_version=current,
                typed_name=typed_name,
                ip_address=ip_address or None,
                user_agent=printable_header(user_agent, 500),
            )
    except IntegrityError:
        raise CandidateError("already_signed", "You have already signed.") from None
    PlankCommitment.objects.bulk_create(
        PlankCommitment(
            signature=signature,
            position=position,
            choice=PlankCommitment.Choice.RESERVED
            if position in reservations
            else PlankCommitment.Choice.COMMITTED,
            reservation=reservations.get(position, ""),
        )
        for position, _ in current.numbered_planks()
    )
    refresh_candidate_facts(slate)
    signature_changed.send(
        sender=Signature, signature_id=signature.pk, slate_id=slate.pk, signed=True
    )
    return signature


@transaction.atomic
def withdraw_signature(
    *, candidate: Candidate, slate: Slate, signer, reason: str = ""
) -> Signature:
    slate = lock_slate(slate)
    candidate = Candidate.objects.get(pk=candidate.pk)
    if not signer.is_authenticated or candidate.user_id != signer.pk:
        raise CandidateError("forbidden", "A candidate withdraws only their own signature.")
    if slate.state in (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED):
        raise CandidateError("slate_locked", "The slate has locked; signatures are final.")
    if slate.state != SlateState.OPEN:
        raise CandidateError("slate_closed", "This slate is not open.")
    if slate.deadline <= timezone.now():
        # Only signatures as they stood at the deadline count (the deadline job decides
        # from them, perhaps a minute later).
        raise CandidateError(
            "deadline_passed", "The slate's deadline has passed; signatures are final."
        )
    signature = (
        Signature.objects.select_for_update()
        .filter(candidate=candidate, slate=slate, withdrawn_at__isnull=True)
        .first()
    )
    if signature is None:
        raise CandidateError("not_signed", "There is no signature to withdraw.")
    reason = clean_text(reason, field="reason", error=CandidateError, max_length=500)
    signature.withdrawn_at = timezone.now()
    signature.withdrawal_reason = reason or "withdrawn by the candidate"
    signature.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    refresh_candidate_facts(slate)
    signature_changed.send(
        sender=Signature, signature_id=signature.pk, slate_id=slate.pk, signed=False
    )
    return signature
