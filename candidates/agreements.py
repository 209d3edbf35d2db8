"""The coordination agreement: its draft, publishing a version (published versions, planks
included, are immutable and hashed), changing an open slate's planks through a new version,
and publishing the slate with its agreement."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from slate import lifecycle as slate_lifecycle
from slate import services as slate_services
from slate.errors import SlateError
from slate.models import Slate
from slate.states import SlateState
from slate.text import clean_text

from . import selectors
from .models import AgreementVersion, CoordinationAgreement
from .services import (
    CandidateError,
    as_candidate_error,
    lock_slate,
    refresh_candidate_facts,
    require_changeable,
    require_organizer,
)

MAX_AGREEMENT_CHARS = 100_000


@transaction.atomic
def save_agreement_draft(*, slate: Slate, actor, text: str, title: str = "") -> AgreementVersion:
    """Create or edit the unpublished next version of the slate's agreement."""
    slate = lock_slate(slate)
    require_organizer(actor, slate)
    require_changeable(slate)
    text = clean_text(
        text, field="text", error=CandidateError, max_length=MAX_AGREEMENT_CHARS, required=True,
        required_message="The agreement needs its text.",
    )  # fmt: skip
    title = (
        clean_text(title, field="title", error=CandidateError, max_length=200)
        or "Coordination agreement"
    )
    agreement, created = CoordinationAgreement.objects.get_or_create(
        slate=slate, defaults={"title": title}
    )
    # A new agreement has no versions yet: nothing to look up.
    draft = None if created else selectors.draft_agreement_version(slate)
    if draft is None:
        last = None if created else agreement.versions.order_by("-number").first()
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
    slate = lock_slate(slate)
    require_organizer(actor, slate)
    require_changeable(slate)
    draft = selectors.draft_agreement_version(slate)
    if draft is None:
        raise CandidateError("no_draft", "There is no draft agreement to publish.", field="text")
    # The planks may have changed since the draft was saved: publish the ones in force now.
    planks = _slate_planks(slate)
    if draft.planks != planks:
        draft.planks = planks
        draft.save()
    current_hash = (
        selectors.published_agreement_versions(slate)
        .order_by("-number")
        .values_list("content_hash", flat=True)
        .first()
    )
    if current_hash == draft.content_hash:
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
    slate = lock_slate(slate)
    require_organizer(actor, slate)
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
        raise as_candidate_error(exc) from None
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


@transaction.atomic
def publish_slate(*, slate: Slate, actor) -> Slate:
    """Publish the agreement draft (when it differs from the published text) and open the
    slate, or send it to staff's review (``slate.lifecycle.submit_slate``): both or neither,
    so a refused opening leaves the draft as it was."""
    require_organizer(actor, slate)
    draft = selectors.draft_agreement_version(slate)
    current = selectors.current_agreement_version(slate)
    if draft is not None and (current is None or current.content_hash != draft.content_hash):
        publish_agreement(slate=slate, actor=actor)
    try:
        return slate_lifecycle.submit_slate(slate=slate, actor=actor)
    except SlateError as exc:
        raise as_candidate_error(exc) from None
