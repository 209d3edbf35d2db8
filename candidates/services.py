"""Writes about candidates: their profiles (created, claimed, verified, and what they say
and share), and what the candidates app's other writes share: its error, the slate's lock
and the recount of the slate's candidate facts.

The other writes are in topic modules beside this one: ``invitations``, ``agreements`` and
``signatures``. Anything that can change who counts toward a slate's rule runs under the
slate's exclusive row lock, recounts the candidate facts onto the slate row
(``refresh_candidate_facts``), and asks for a threshold evaluation once the transaction
commits.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from slate import lifecycle as slate_lifecycle
from slate import selectors as slate_selectors
from slate import services as slate_services
from slate import tasks as slate_tasks
from slate.errors import DomainError, SlateError
from slate.models import Slate
from slate.queue import enqueue_on_commit
from slate.states import SlateState
from slate.text import clean_text

from . import photos, selectors
from .models import Candidate, CandidatePhoto, Invitation, SignerContact


class CandidateError(DomainError):
    pass


def as_candidate_error(exc: SlateError) -> CandidateError:
    return CandidateError(exc.code, exc.message, field=exc.field)


def lock_slate(slate: Slate) -> Slate:
    """The slate's exclusive lock (``slate.services.lock_slate``), refusing as a CandidateError."""
    try:
        return slate_services.lock_slate(slate.pk)
    except SlateError as exc:
        raise as_candidate_error(exc) from None


def require_organizer(actor, slate: Slate) -> None:
    if not slate_selectors.is_organizer(actor, slate):
        raise CandidateError("forbidden", "Only this slate's organizers may do that.")


def require_changeable(slate: Slate) -> None:
    if slate.state not in (SlateState.DRAFT, SlateState.OPEN):
        raise CandidateError(
            "slate_closed", "This slate no longer changes its candidates.", field="slate"
        )


def refresh_candidate_facts(slate: Slate) -> None:
    """Recount the slate's candidate facts and schedule an evaluation. Caller holds the lock."""
    facts = selectors.candidate_facts(slate)
    slate_lifecycle.record_candidate_facts(
        slate=slate,
        signed_candidate_count=facts.signed_candidate_count,
        invited_candidate_count=facts.invited_candidate_count,
        required_unsigned_count=facts.required_unsigned_count,
        agreement_version_number=facts.agreement_version_number,
    )
    if slate.state == SlateState.OPEN:
        enqueue_on_commit(slate_tasks.evaluate_threshold, slate.pk)


# --- Candidate profiles -----------------------------------------------------------------------


# Model-wide constraint errors that belong to one field: said beside it, not over the form.
CONSTRAINT_FIELDS = {"duplicate_fec_id": "fec_candidate_id"}


def _first_error_field(exc: ValidationError) -> tuple[str | None, str]:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        if field == NON_FIELD_ERRORS:
            field = CONSTRAINT_FIELDS.get(errors[0].code)
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
    # Without an FEC id the candidate is outside candidate_unique_fec_id's condition, so that
    # constraint cannot fail: leaving the empty field out spares its query (and the Python
    # that builds it); the empty, blank field has nothing else to check.
    try:
        candidate.full_clean(exclude=None if cleaned["fec_candidate_id"] else ["fec_candidate_id"])
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
