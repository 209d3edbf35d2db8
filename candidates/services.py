"""Every write about candidates, invitations, agreements and signatures.

Anything that can change who counts toward a slate's rule runs under the slate's exclusive
row lock, recounts the candidate facts onto the slate row, and asks for a threshold
evaluation once the transaction commits.
"""

import unicodedata
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from slate import selectors as slate_selectors
from slate import services as slate_services
from slate import tasks as slate_tasks
from slate.errors import DomainError, SlateError
from slate.events import signature_changed
from slate.models import Slate
from slate.queue import enqueue_named_on_commit, enqueue_on_commit
from slate.states import SlateState
from slate.text import clean_text, printable_header

from . import photos, selectors
from .models import (
    AgreementVersion,
    Candidate,
    CandidatePhoto,
    CoordinationAgreement,
    Invitation,
    PlankCommitment,
    Signature,
    SignerContact,
)

MAX_AGREEMENT_CHARS = 100_000
MAX_RESERVATION_CHARS = 500


class CandidateError(DomainError):
    pass


def _as_candidate_error(exc: SlateError) -> CandidateError:
    return CandidateError(exc.code, exc.message, field=exc.field)


def _lock_slate(slate: Slate) -> Slate:
    try:
        return slate_services.lock_slate(slate.pk)
    except SlateError as exc:
        raise _as_candidate_error(exc) from None


def _require_organizer(actor, slate: Slate) -> None:
    if not slate_selectors.is_organizer(actor, slate):
        raise CandidateError("forbidden", "Only this slate's organizers may do that.")


def refresh_candidate_facts(slate: Slate) -> None:
    """Recount the slate's candidate facts and schedule an evaluation. Caller holds the lock."""
    facts = selectors.candidate_facts(slate)
    slate_services.record_candidate_facts(
        slate=slate,
        signed_candidate_count=facts.signed_candidate_count,
        invited_candidate_count=facts.invited_candidate_count,
        required_unsigned_count=facts.required_unsigned_count,
        agreement_version_number=facts.agreement_version_number,
    )
    if slate.state == SlateState.OPEN:
        enqueue_on_commit(slate_tasks.evaluate_threshold, slate.pk)


# --- Candidate profiles -----------------------------------------------------------------------


def _first_error_field(exc: ValidationError) -> tuple[str | None, str]:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        return field, errors[0].messages[0]
    return None, exc.messages[0]


@transaction.atomic
def create_candidate(
    *,
    full_name: str,
    office: str,
    state: str,
    created_by,
    district: str = "",
    party: str = "",
    website: str = "",
    fec_candidate_id: str = "",
    fec_committee_id: str = "",
    public_phone: str = "",
    public_email: str = "",
) -> Candidate:
    if not (
        created_by.is_authenticated
        and (created_by.is_staff or created_by.organized_slates.exists())
    ):
        raise CandidateError("forbidden", "Only organizers and staff add candidates.")
    text_fields = {
        "full_name": (full_name, 200), "office": (office, 32), "state": (state, 2),
        "district": (district, 32), "party": (party, 64), "website": (website, 200),
        "fec_candidate_id": (fec_candidate_id, 9), "fec_committee_id": (fec_committee_id, 9),
        "public_phone": (public_phone, 32), "public_email": (public_email, 254),
    }  # fmt: skip
    cleaned = {
        name: clean_text(value, field=name, error=CandidateError, max_length=max_length)
        for name, (value, max_length) in text_fields.items()
    }
    for name in ("state", "fec_candidate_id", "fec_committee_id"):
        cleaned[name] = cleaned[name].upper()
    candidate = Candidate(**cleaned)
    try:
        candidate.full_clean()
    except ValidationError as exc:
        field, message = _first_error_field(exc)
        raise CandidateError("invalid_candidate", message, field=field) from None
    candidate.save()
    return candidate


MAX_STATEMENT_CHARS = 2_000


@transaction.atomic
def update_public_profile(
    *, candidate: Candidate, actor, statement: str, website: str = "", photo=None,
    remove_photo: bool = False,
) -> Candidate:  # fmt: skip
    """The candidate writes their own public statement and website, and uploads (or removes)
    their photo; nobody else may. A bad photo changes nothing, the statement included."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if not actor.is_authenticated or candidate.user_id != actor.pk:
        raise CandidateError("forbidden", "A candidate writes only their own statement.")
    prepared = None
    if photo is not None:
        try:
            prepared = photos.prepare(photo)
        except photos.PhotoError as refused:
            raise CandidateError(refused.code, refused.message, field="photo") from None
    candidate.statement = clean_text(
        statement, field="statement", error=CandidateError, max_length=MAX_STATEMENT_CHARS
    )
    candidate.website = clean_text(website, field="website", error=CandidateError, max_length=200)
    try:
        candidate.full_clean(exclude=["user", "verified_by"])
    except ValidationError as exc:
        field, message = _first_error_field(exc)
        raise CandidateError("invalid_candidate", message, field=field) from None
    candidate.save(update_fields=["statement", "website"])
    if prepared is not None:
        CandidatePhoto.objects.update_or_create(
            candidate=candidate, defaults={"jpeg": prepared.jpeg, "sha256": prepared.sha256}
        )
    elif remove_photo:
        CandidatePhoto.objects.filter(candidate=candidate).delete()
    return candidate


MAX_SIGNER_NOTE_CHARS = 500


@transaction.atomic
def set_signer_contact(
    *, candidate: Candidate, actor, phone: str = "", email: str = "", scheduler: str = "",
    note: str = "",
) -> SignerContact:  # fmt: skip
    """The candidate chooses what the other signers and their staff see in the signers' room:
    each field filled in is shared, each left empty is not. Nobody else may."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if not actor.is_authenticated or candidate.user_id != actor.pk:
        raise CandidateError("forbidden", "A candidate chooses only their own contact details.")
    contact = SignerContact.objects.filter(candidate=candidate).first() or SignerContact(
        candidate=candidate
    )
    contact.phone = clean_text(phone, field="phone", error=CandidateError, max_length=32)
    contact.email = clean_text(email, field="email", error=CandidateError, max_length=254)
    contact.scheduler = clean_text(
        scheduler, field="scheduler", error=CandidateError, max_length=200
    )
    contact.note = clean_text(
        note, field="note", error=CandidateError, max_length=MAX_SIGNER_NOTE_CHARS
    )
    try:
        contact.full_clean(exclude=["candidate"])
    except ValidationError as exc:
        field, message = _first_error_field(exc)
        raise CandidateError("invalid_contact", message, field=field) from None
    contact.save()
    return contact


@transaction.atomic
def set_digest_paused(*, candidate: Candidate, actor, paused: bool) -> Candidate:
    """The candidate pauses (or resumes) their weekly digest; nobody else may."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if not actor.is_authenticated or candidate.user_id != actor.pk:
        raise CandidateError("forbidden", "Only the candidate may pause their digest.")
    candidate.digest_paused = bool(paused)
    candidate.save(update_fields=["digest_paused"])
    return candidate


@transaction.atomic
def claim_candidate(*, candidate: Candidate, user) -> Candidate:
    """Link a candidate profile to the account that followed its invitation."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.user_id == user.pk:
        return candidate
    if candidate.user_id is not None:
        raise CandidateError("already_claimed", "This profile has been claimed by another account.")
    if Candidate.objects.filter(user=user).exists():
        raise CandidateError("has_profile", "This account already has a candidate profile.")
    candidate.user = user
    candidate.save(update_fields=["user"])
    return candidate


@transaction.atomic
def claim_invitation(*, invitation: Invitation, user) -> Candidate:
    """Claim the profile an invitation link names, while that invitation still stands."""
    if not user.is_authenticated:
        raise CandidateError("forbidden", "Log in to claim your profile.")
    invitation = Invitation.objects.select_related("slate").get(pk=invitation.pk)
    if not invitation.counts_toward_slate:
        raise CandidateError(
            "invitation_closed", "This invitation was withdrawn or declined; ask the organizers."
        )
    if invitation.slate.state not in (SlateState.DRAFT, SlateState.OPEN):
        raise CandidateError("slate_closed", "This slate no longer takes new candidates.")
    return claim_candidate(candidate=invitation.candidate, user=user)


@transaction.atomic
def verify_candidate(*, candidate: Candidate, actor) -> Candidate:
    """An organizer of a slate the candidate is invited to (or staff) confirms who they are."""
    allowed = actor.is_authenticated and (
        actor.is_staff
        or Invitation.objects.filter(candidate=candidate, slate__organizers=actor).exists()
    )
    if not allowed:
        raise CandidateError(
            "forbidden", "Only an organizer who invited this candidate may verify them."
        )
    if candidate.user_id is None:
        raise CandidateError(
            "unclaimed", "The candidate must claim the profile before verification."
        )
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.verified_at is None:
        candidate.verified_at = timezone.now()
        candidate.verified_by = actor
        candidate.save(update_fields=["verified_at", "verified_by"])
    return candidate


# --- Invitations ------------------------------------------------------------------------------


def _require_changeable(slate: Slate) -> None:
    if slate.state not in (SlateState.DRAFT, SlateState.OPEN):
        raise CandidateError(
            "slate_closed", "This slate no longer changes its candidates.", field="slate"
        )


@transaction.atomic
def invite_candidate(
    *, slate: Slate, candidate: Candidate, actor, is_required: bool = False
) -> Invitation:
    slate = _lock_slate(slate)
    _require_organizer(actor, slate)
    _require_changeable(slate)
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
    _require_organizer(actor, invitation.slate)
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
    slate = _lock_slate(invitation.slate)
    _require_organizer(actor, slate)
    _require_changeable(slate)
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
    slate = _lock_slate(invitation.slate)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("candidate")
        .get(pk=invitation.pk)
    )
    if invitation.candidate.user_id != user.pk:
        raise CandidateError("forbidden", "Only the invited candidate may answer this invitation.")
    _require_changeable(slate)
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


# --- Agreement --------------------------------------------------------------------------------


@transaction.atomic
def save_agreement_draft(*, slate: Slate, actor, text: str, title: str = "") -> AgreementVersion:
    """Create or edit the unpublished next version of the slate's agreement."""
    slate = _lock_slate(slate)
    _require_organizer(actor, slate)
    _require_changeable(slate)
    text = clean_text(
        text, field="text", error=CandidateError, max_length=MAX_AGREEMENT_CHARS, required=True,
        required_message="The agreement needs its text.",
    )  # fmt: skip
    title = (
        clean_text(title, field="title", error=CandidateError, max_length=200)
        or "Coordination agreement"
    )
    agreement, _ = CoordinationAgreement.objects.get_or_create(
        slate=slate, defaults={"title": title}
    )
    draft = selectors.draft_agreement_version(slate)
    if draft is None:
        last = agreement.versions.order_by("-number").first()
        draft = AgreementVersion(agreement=agreement, number=(last.number + 1) if last else 1)
    draft.title = title
    draft.text = text
    draft.planks = _slate_planks(slate)
    draft.save()
    return draft


def _slate_planks(slate: Slate) -> list[dict]:
    """The slate's planks as an agreement version holds them (and hashes them)."""
    return [
        {"title": plank.title, "text": plank.summary} for plank in slate.planks.order_by("position")
    ]


@transaction.atomic
def publish_agreement(*, slate: Slate, actor) -> AgreementVersion:
    """Publish the draft. Signatures on an earlier version stop counting until re-signed."""
    slate = _lock_slate(slate)
    _require_organizer(actor, slate)
    _require_changeable(slate)
    draft = selectors.draft_agreement_version(slate)
    if draft is None:
        raise CandidateError("no_draft", "There is no draft agreement to publish.", field="text")
    # The planks may have changed since the draft was saved: publish the ones in force now.
    planks = _slate_planks(slate)
    if draft.planks != planks:
        draft.planks = planks
        draft.save()
    current = selectors.current_agreement_version(slate)
    if current is not None and current.content_hash == draft.content_hash:
        raise CandidateError(
            "unchanged", "The draft is the same as the published version.", field="text"
        )
    draft.published_at = timezone.now()
    # Bypass the immutability guard in save(): this is the publishing write itself.
    AgreementVersion.objects.filter(pk=draft.pk).update(published_at=draft.published_at)
    refresh_candidate_facts(slate)
    return draft


@transaction.atomic
def revise_planks(*, slate: Slate, actor, planks: Sequence[tuple[str, str]]) -> AgreementVersion:
    """Change an open slate's planks. The planks are inside the hashed agreement, so this
    publishes a new version (the current text with the new planks): signatures on earlier
    versions stop counting until their candidates sign again, as for any new version."""
    slate = _lock_slate(slate)
    _require_organizer(actor, slate)
    if slate.state != SlateState.OPEN:
        raise CandidateError(
            "slate_closed", "Planks change here only while the slate is open.", field="planks"
        )
    current = selectors.current_agreement_version(slate)
    if current is None:
        raise CandidateError("no_agreement", "The slate has no published agreement.")
    try:
        slate_services.replace_open_slate_planks(slate=slate, planks=planks)
    except SlateError as exc:
        raise _as_candidate_error(exc) from None
    if _slate_planks(slate) == current.planks:
        raise CandidateError(
            "unchanged", "The planks are the same as in the signed agreement.", field="planks"
        )
    if selectors.draft_agreement_version(slate) is not None:
        # Publishing would carry the unpublished text along with the planks.
        raise CandidateError(
            "draft_pending", "Publish or discard the agreement draft before changing planks."
        )
    # The new version keeps the text candidates have read and changes only the planks.
    AgreementVersion.objects.create(
        agreement=current.agreement,
        number=current.number + 1,
        title=current.title,
        text=current.text,
        planks=_slate_planks(slate),
    )
    return publish_agreement(slate=slate, actor=actor)


# --- Signatures -------------------------------------------------------------------------------


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
    slate = _lock_slate(slate)
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
    slate = _lock_slate(slate)
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


@transaction.atomic
def publish_slate(*, slate: Slate, actor) -> Slate:
    """Publish the agreement draft (when it differs from the published text) and open the
    slate, or send it to staff's review (``slate.services.submit_slate``): both or neither,
    so a refused opening leaves the draft as it was."""
    _require_organizer(actor, slate)
    draft = selectors.draft_agreement_version(slate)
    current = selectors.current_agreement_version(slate)
    if draft is not None and (current is None or current.content_hash != draft.content_hash):
        publish_agreement(slate=slate, actor=actor)
    try:
        return slate_services.submit_slate(slate=slate, actor=actor)
    except SlateError as exc:
        raise _as_candidate_error(exc) from None
