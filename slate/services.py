"""Every write to the Slate aggregate.

Lifecycle changes go through ``transition_slate`` alone: it takes the slate's row lock,
checks the state table, records who/when/why, and schedules the event dispatch after commit.
"""

import io
import logging
import re
from collections.abc import Sequence
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from . import selectors
from .errors import SlateError
from .events import SIGNAL_BY_STATE, slate_deadline_extended, slate_state_changed
from .models import (
    DeadlineExtension,
    Endorsement,
    OrganizerInvitation,
    PartnerCode,
    PartnerLogo,
    PartnerOrganization,
    Plank,
    Slate,
    SlateCounterShard,
    SlateOrganizer,
    SlateTransition,
)
from .queue import enqueue_named_on_commit
from .states import SlateState, slate_transition_allowed
from .text import clean_text

logger = logging.getLogger(__name__)

MAX_PLANKS = 20
ORGANIZER_INVITATION_SALT = "slate.organizer-invitation"
ORGANIZER_INVITATION_MAX_AGE = 14 * 24 * 3600  # seconds


# --- Locks ------------------------------------------------------------------------------------


def lock_slate(slate_id: int) -> Slate:
    """Exclusive row lock: for lifecycle changes and for signature changes."""
    try:
        return Slate.objects.select_for_update().get(pk=slate_id)
    except Slate.DoesNotExist:
        raise SlateError("unknown_slate", "That slate does not exist.", field="slate") from None


def lock_slate_shared(slate_id: int) -> Slate:
    """Shared row lock for pledge changes.

    Many pledges may hold it at once (no hot row), yet none can commit while a lock or expiry
    holds the exclusive lock, so a pledge never lands on a slate that has just closed.
    Django has no FOR SHARE, hence the raw query; SQLite serialises writers anyway.
    """
    if connection.vendor == "postgresql":
        # The table name is our own constant; the id is a bound parameter. One round trip
        # locks and reads the row (this runs several times for every pledge a release settles).
        sql = f"SELECT * FROM {Slate._meta.db_table} WHERE id = %s FOR SHARE"  # noqa: S608
        found = list(Slate.objects.raw(sql, [slate_id]))
    else:
        found = list(Slate.objects.filter(pk=slate_id))
    if not found:
        raise SlateError("unknown_slate", "That slate does not exist.", field="slate")
    return found[0]


# --- Creating and editing ---------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "slate"
    slug, suffix = base, 2
    while Slate.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


def _validate_rule(*, min_signatures: int, min_money_cents: int, min_volunteer_hours: int) -> None:
    for value, field_name in (
        (min_signatures, "threshold_min_signatures"),
        (min_money_cents, "threshold_min_money_cents"),
        (min_volunteer_hours, "threshold_min_volunteer_hours"),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SlateError("invalid_rule", "Must be a whole number.", field=field_name)
    if min_signatures < 1:
        raise SlateError(
            "invalid_rule",
            "At least one candidate signature must be required.",
            field="threshold_min_signatures",
        )
    if min_money_cents < 0 or min_volunteer_hours < 0:
        raise SlateError(
            "invalid_rule",
            "Minimum money and hours cannot be negative.",
            field="threshold_min_money_cents"
            if min_money_cents < 0
            else "threshold_min_volunteer_hours",
        )


def _validate_planks(planks: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(planks) > MAX_PLANKS:
        raise SlateError(
            "too_many_planks", f"A slate has at most {MAX_PLANKS} planks.", field="planks"
        )
    cleaned = []
    for title, summary in planks:
        title = clean_text(
            title, field="planks", error=SlateError, max_length=200, required=True,
            required_message="Each plank needs a title.",
        )  # fmt: skip
        summary = clean_text(summary, field="planks", error=SlateError, max_length=2_000)
        cleaned.append((title, summary))
    return cleaned


def _clean_basics(*, name: str, mission: str, deadline) -> tuple[str, str]:
    name = clean_text(
        name, field="name", error=SlateError, max_length=200, required=True,
        required_message="A slate needs a name.",
    )  # fmt: skip
    mission = clean_text(
        mission, field="mission", error=SlateError, max_length=10_000, required=True,
        required_message="Say what the slate is for.",
    )  # fmt: skip
    if deadline is None or timezone.is_naive(deadline):
        raise SlateError(
            "invalid_deadline", "The deadline needs a date, time and time zone.", field="deadline"
        )
    if deadline <= timezone.now():
        raise SlateError(
            "invalid_deadline", "The deadline must be in the future.", field="deadline"
        )
    return name, mission


@transaction.atomic
def create_slate(
    *,
    name: str,
    mission: str,
    deadline,
    threshold_min_signatures: int,
    created_by,
    threshold_min_money_cents: int = 0,
    threshold_min_volunteer_hours: int = 0,
    planks: Sequence[tuple[str, str]] = (),
    slug: str | None = None,
) -> Slate:
    name, mission = _clean_basics(name=name, mission=mission, deadline=deadline)
    _validate_rule(
        min_signatures=threshold_min_signatures,
        min_money_cents=threshold_min_money_cents,
        min_volunteer_hours=threshold_min_volunteer_hours,
    )
    cleaned_planks = _validate_planks(planks)
    if slug is not None:
        slug = slugify(slug)
        if not slug or Slate.objects.filter(slug=slug).exists():
            raise SlateError("invalid_slug", "That address is taken or empty.", field="slug")
    slate = Slate.objects.create(
        name=name,
        slug=slug or _unique_slug(name),
        mission=mission,
        deadline=deadline,
        threshold_min_signatures=threshold_min_signatures,
        threshold_min_money_cents=threshold_min_money_cents,
        threshold_min_volunteer_hours=threshold_min_volunteer_hours,
    )
    SlateCounterShard.objects.bulk_create(
        SlateCounterShard(slate=slate, shard=n) for n in range(settings.SLATE_COUNTER_SHARDS)
    )
    Plank.objects.bulk_create(
        Plank(slate=slate, position=i, title=title, summary=summary)
        for i, (title, summary) in enumerate(cleaned_planks, start=1)
    )
    SlateOrganizer.objects.create(slate=slate, user=created_by)
    return slate


def _require_organizer(actor, slate: Slate) -> None:
    if not selectors.is_organizer(actor, slate):
        raise SlateError("forbidden", "Only this slate's organizers may do that.")


@transaction.atomic
def set_planks(*, slate: Slate, planks: Sequence[tuple[str, str]], actor) -> list[Plank]:
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError(
            "not_draft", "Planks are fixed once the slate is published.", field="planks"
        )
    return _write_planks(slate, planks)


def _write_planks(slate: Slate, planks: Sequence[tuple[str, str]]) -> list[Plank]:
    cleaned = _validate_planks(planks)
    slate.planks.all().delete()
    return Plank.objects.bulk_create(
        Plank(slate=slate, position=i, title=title, summary=summary)
        for i, (title, summary) in enumerate(cleaned, start=1)
    )


def replace_open_slate_planks(*, slate: Slate, planks: Sequence[tuple[str, str]]) -> list[Plank]:
    """Change an open slate's planks. Only ``candidates.services.revise_planks`` calls this:
    it holds the slate's lock, checks the organizer, and publishes the new agreement version
    (planks are inside the hashed agreement) in the same transaction."""
    if slate.state != SlateState.OPEN:
        raise SlateError(
            "slate_closed", "Planks change only while the slate is open.", field="planks"
        )
    if not planks:
        raise SlateError("no_planks", "An open slate keeps at least one plank.", field="planks")
    return _write_planks(slate, planks)


@transaction.atomic
def update_threshold_rule(
    *,
    slate: Slate,
    actor,
    min_signatures: int,
    min_money_cents: int = 0,
    min_volunteer_hours: int = 0,
) -> Slate:
    """Change the rule of a draft. An open slate's rule is part of what supporters agreed to."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError("not_draft", "The threshold rule is fixed once the slate is published.")
    _validate_rule(
        min_signatures=min_signatures,
        min_money_cents=min_money_cents,
        min_volunteer_hours=min_volunteer_hours,
    )
    slate.threshold_min_signatures = min_signatures
    slate.threshold_min_money_cents = min_money_cents
    slate.threshold_min_volunteer_hours = min_volunteer_hours
    slate.save(
        update_fields=[
            "threshold_min_signatures",
            "threshold_min_money_cents",
            "threshold_min_volunteer_hours",
            "updated_at",
        ]
    )
    return slate


@transaction.atomic
def update_draft(*, slate: Slate, actor, name: str, mission: str, deadline) -> Slate:
    """Change a draft's name, mission and deadline. Its address (slug) stays as created."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError(
            "not_draft", "Use 'extend the deadline' once the slate is published.", field="name"
        )
    slate.name, slate.mission = _clean_basics(name=name, mission=mission, deadline=deadline)
    slate.deadline = deadline
    slate.save(update_fields=["name", "mission", "deadline", "updated_at"])
    return slate


@transaction.atomic
def add_organizer(*, slate: Slate, user, actor) -> SlateOrganizer:
    _require_organizer(actor, slate)
    organizer, _ = SlateOrganizer.objects.get_or_create(slate=slate, user=user)
    return organizer


def _clean_email(email: object) -> str:
    if not isinstance(email, str):
        email = ""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SlateError("invalid_email", "Enter a valid email address.", field="email") from None
    return email


@transaction.atomic
def invite_organizer(*, slate: Slate, email: object, actor) -> OrganizerInvitation:
    """Email ``email`` a link to organize ``slate`` too. Inviting the same address again
    re-sends the open invitation; someone who organizes it already is refused."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    email = _clean_email(email)
    if slate.organizers.filter(email__iexact=email).exists():
        raise SlateError(
            "already_organizer", "That person organizes this slate already.", field="email"
        )
    invitation, _ = OrganizerInvitation.objects.get_or_create(
        slate=slate, email=email, accepted_at=None, defaults={"invited_by": actor}
    )
    enqueue_named_on_commit("organizing.tasks.send_organizer_invitation", invitation.pk)
    return invitation


@transaction.atomic
def cancel_organizer_invitation(*, invitation: OrganizerInvitation, actor) -> None:
    _require_organizer(actor, invitation.slate)
    OrganizerInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()


def organizer_invitation_token(invitation: OrganizerInvitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=ORGANIZER_INVITATION_SALT)


def organizer_invitation_for_token(token: str) -> OrganizerInvitation:
    """The open invitation a link names, or a SlateError saying why the link is no good."""
    try:
        data = signing.loads(
            token, salt=ORGANIZER_INVITATION_SALT, max_age=ORGANIZER_INVITATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise SlateError(
            "link_expired", "This invitation has expired; ask the organizers for a new one."
        ) from None
    except signing.BadSignature:
        raise SlateError("bad_link", "This link is not an invitation we sent.") from None
    invitation = (
        OrganizerInvitation.objects.select_related("slate")
        .filter(pk=data.get("invitation") if isinstance(data, dict) else None)
        .first()
    )
    if invitation is None:
        raise SlateError(
            "bad_link", "This invitation was withdrawn; ask the organizers for a new one."
        )
    return invitation


@transaction.atomic
def accept_organizer_invitation(*, token: str, user) -> SlateOrganizer:
    """Follow the link: the logged-in person becomes an organizer, if the invitation was sent
    to an address of theirs that they have verified."""
    invitation = organizer_invitation_for_token(token)
    slate = lock_slate(invitation.slate_id)
    invitation = OrganizerInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise SlateError(
            "wrong_account",
            f"This invitation was sent to {invitation.email}. Log in with that address "
            "(verified) to accept it.",
        )
    organizer, _ = SlateOrganizer.objects.get_or_create(slate=slate, user=user)
    if invitation.accepted_at is None:
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return organizer


@transaction.atomic
def remove_organizer(*, slate: Slate, user, actor) -> None:
    """An organizer removes a co-organizer (or leaves); a slate keeps at least one."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    organizers = SlateOrganizer.objects.select_for_update().filter(slate=slate)
    if not organizers.filter(user=user).exists():
        raise SlateError("not_organizer", "That person does not organize this slate.")
    if organizers.count() <= 1:
        raise SlateError(
            "last_organizer",
            "A slate needs at least one organizer: invite someone else before you leave.",
        )
    organizers.filter(user=user).delete()


@transaction.atomic
def extend_deadline(*, slate: Slate, new_deadline, actor, reason: str) -> DeadlineExtension:
    """Move an open slate's deadline later, record who, when and why, and (after commit)
    announce ``slate_deadline_extended`` so supporters are told."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    now = timezone.now()
    if slate.state != SlateState.OPEN:
        raise SlateError(
            "not_open", "Only an open slate's deadline can be extended.", field="new_deadline"
        )
    if slate.deadline <= now:
        raise SlateError(
            "deadline_passed",
            "The deadline has already passed; the slate is closing.",
            field="new_deadline",
        )
    if new_deadline is None or timezone.is_naive(new_deadline) or new_deadline <= slate.deadline:
        raise SlateError(
            "invalid_deadline",
            "A new deadline must be later than the current one.",
            field="new_deadline",
        )
    reason = clean_text(
        reason, field="reason", error=SlateError, max_length=500, required=True,
        required_message="Say why the deadline moves; supporters are told.",
    )  # fmt: skip
    extension = DeadlineExtension.objects.create(
        slate=slate,
        previous_deadline=slate.deadline,
        new_deadline=new_deadline,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    slate.deadline = new_deadline
    slate.save(update_fields=["deadline", "updated_at"])
    enqueue_named_on_commit("slate.tasks.dispatch_deadline_extension", extension.pk)
    return extension


def dispatch_deadline_extension(*, extension_id: int) -> bool:
    """Send ``slate_deadline_extended`` once per extension (at least once: see the sweeper)."""
    with transaction.atomic():
        extension = (
            DeadlineExtension.objects.select_for_update()
            .filter(pk=extension_id, dispatched_at__isnull=True)
            .first()
        )
        if extension is None:
            return False
        slate_deadline_extended.send(
            sender=Slate, slate_id=extension.slate_id, extension_id=extension.pk
        )
        extension.dispatched_at = timezone.now()
        extension.save(update_fields=["dispatched_at"])
    return True


def undispatched_extension_ids(*, older_than_seconds: int) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        DeadlineExtension.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )


# --- Lifecycle --------------------------------------------------------------------------------


def transition_slate(*, slate: Slate, to_state: str, actor, reason: str) -> SlateTransition:
    """The one function that changes a slate's state. The caller must hold ``lock_slate``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition_slate must run inside a transaction holding the slate lock")
    from_state = slate.state
    if not slate_transition_allowed(from_state, to_state):
        raise SlateError(
            "invalid_transition",
            f"A slate cannot go from {from_state} to {to_state}.",
            field="state",
        )
    now = timezone.now()
    slate.state = to_state
    update_fields = ["state", "updated_at"]
    if to_state == SlateState.OPEN:
        slate.opened_at = now
        update_fields.append("opened_at")
    if to_state == SlateState.LOCKED:
        slate.locked_at = now
        update_fields.append("locked_at")
    slate.save(update_fields=update_fields)
    transition = SlateTransition.objects.create(
        slate=slate,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        reason=reason[:500],
        created_at=now,
    )
    enqueue_named_on_commit("slate.tasks.dispatch_transition", transition.pk)
    return transition


def _check_ready(slate: Slate) -> None:
    """What a slate needs before supporters may see it (the caller holds ``lock_slate``)."""
    if slate.deadline <= timezone.now():
        raise SlateError(
            "invalid_deadline", "The deadline has passed; set a later one first.", field="deadline"
        )
    if slate.agreement_version_number is None:
        raise SlateError(
            "no_agreement", "Publish the coordination agreement first.", field="agreement"
        )
    if slate.invited_candidate_count < slate.threshold_min_signatures:
        raise SlateError(
            "too_few_candidates",
            f"The rule needs {slate.threshold_min_signatures} signatures but only "
            f"{slate.invited_candidate_count} candidates are invited.",
            field="threshold_min_signatures",
        )
    if not slate.planks.exists():
        raise SlateError("no_planks", "Add at least one plank.", field="planks")


def _lock_draft_ready_to_publish(slate: Slate, actor) -> Slate:
    """The slate locked, once its organizer asks and it is a draft with all it needs."""
    slate = lock_slate(slate.pk)
    _require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError("not_draft", "Only a draft slate can be published.", field="state")
    _check_ready(slate)
    return slate


@transaction.atomic
def open_slate(*, slate: Slate, actor) -> Slate:
    """Publish a draft at once (no review): for organizers staff already trust, or staff."""
    slate = _lock_draft_ready_to_publish(slate, actor)
    transition_slate(
        slate=slate, to_state=SlateState.OPEN, actor=actor, reason="published by organizer"
    )
    return slate


@transaction.atomic
def submit_slate(*, slate: Slate, actor) -> Slate:
    """The organizer's "publish": it opens at once, unless it is a new organizer's first
    slate (``selectors.needs_review``), which waits in staff's review queue instead."""
    slate = _lock_draft_ready_to_publish(slate, actor)
    if actor.is_staff or not selectors.needs_review(slate):
        transition_slate(
            slate=slate, to_state=SlateState.OPEN, actor=actor, reason="published by organizer"
        )
    else:
        transition_slate(
            slate=slate,
            to_state=SlateState.REVIEW,
            actor=actor,
            reason="a new organizer's first slate: sent to staff for review",
        )
    return slate


def _require_staff(actor) -> None:
    if not (actor.is_authenticated and actor.is_staff):
        raise SlateError("forbidden", "Only Slate's staff review slates.")


@transaction.atomic
def approve_slate(*, slate: Slate, actor) -> Slate:
    """Staff let a slate in review go public: it opens now (if it is still ready)."""
    _require_staff(actor)
    slate = lock_slate(slate.pk)
    if slate.state != SlateState.REVIEW:
        raise SlateError("not_in_review", "This slate is not waiting for review.", field="state")
    _check_ready(slate)
    transition_slate(
        slate=slate, to_state=SlateState.OPEN, actor=actor, reason="approved by Slate's staff"
    )
    return slate


@transaction.atomic
def refuse_slate(*, slate: Slate, actor, reason: str) -> SlateTransition:
    """Staff send a slate in review back to its organizers as a draft, saying why; the
    organizers are emailed the reason and see it on the draft's pages."""
    _require_staff(actor)
    reason = clean_text(
        reason, field="reason", error=SlateError, max_length=500, required=True,
        required_message="Say why, so the organizers know what to change.",
    )  # fmt: skip
    slate = lock_slate(slate.pk)
    if slate.state != SlateState.REVIEW:
        raise SlateError("not_in_review", "This slate is not waiting for review.", field="state")
    transition = transition_slate(
        slate=slate, to_state=SlateState.DRAFT, actor=actor, reason=reason
    )
    enqueue_named_on_commit("organizing.tasks.tell_organizers_refused", transition.pk)
    return transition


def record_candidate_facts(
    *,
    slate: Slate,
    signed_candidate_count: int,
    invited_candidate_count: int,
    required_unsigned_count: int,
    agreement_version_number: int | None,
) -> None:
    """Store the candidates app's facts on the slate row. The caller holds ``lock_slate``."""
    slate.signed_candidate_count = signed_candidate_count
    slate.invited_candidate_count = invited_candidate_count
    slate.required_unsigned_count = required_unsigned_count
    slate.agreement_version_number = agreement_version_number
    slate.save(
        update_fields=[
            "signed_candidate_count",
            "invited_candidate_count",
            "required_unsigned_count",
            "agreement_version_number",
            "updated_at",
        ]
    )


def evaluate_threshold(*, slate_id: int) -> bool:
    """Lock the slate if its rule holds. Returns True only for the call that locked it.

    A cheap unlocked read first, so that the per-pledge evaluations of a busy slate do not
    queue on its row lock; then the lock, and the rule again on what the lock guarantees.
    """
    try:
        slate = Slate.objects.get(pk=slate_id)
    except Slate.DoesNotExist:
        return False
    if slate.state != SlateState.OPEN or not selectors.threshold_verdict(slate).holds:
        return False
    with transaction.atomic():
        slate = lock_slate(slate_id)
        if slate.state != SlateState.OPEN:
            return False
        verdict = selectors.threshold_verdict(slate)
        if not verdict.holds:
            return False
        transition_slate(
            slate=slate,
            to_state=SlateState.LOCKED,
            actor=None,
            reason=(
                f"threshold met: {slate.signed_candidate_count} of "
                f"{slate.invited_candidate_count} candidates signed "
                f"(rule: at least {slate.threshold_min_signatures})"
            ),
        )
    logger.info("slate %s locked", slate_id)
    return True


def expire_slate_if_overdue(*, slate_id: int, now=None) -> str | None:
    """At the deadline an open slate locks if its rule holds (a late evaluation), else expires."""
    now = now or timezone.now()
    with transaction.atomic():
        slate = lock_slate(slate_id)
        if slate.state != SlateState.OPEN or slate.deadline > now:
            return None
        if selectors.threshold_verdict(slate).holds:
            transition_slate(
                slate=slate,
                to_state=SlateState.LOCKED,
                actor=None,
                reason="threshold met before the deadline (locked by the deadline job)",
            )
            return SlateState.LOCKED
        transition_slate(
            slate=slate,
            to_state=SlateState.EXPIRED,
            actor=None,
            reason=f"deadline {slate.deadline.isoformat()} passed without the threshold",
        )
        return SlateState.EXPIRED


def dispatch_transition(*, transition_id: int) -> bool:
    """Send a transition's events once. Receivers run inside this transaction: if one fails,
    nothing is marked and the sweeper retries the whole dispatch."""
    with transaction.atomic():
        transition = (
            SlateTransition.objects.select_for_update()
            .filter(pk=transition_id, dispatched_at__isnull=True)
            .first()
        )
        if transition is None:
            return False
        payload = {
            "slate_id": transition.slate_id,
            "transition_id": transition.pk,
            "from_state": transition.from_state,
            "to_state": transition.to_state,
        }
        slate_state_changed.send(sender=Slate, **payload)
        specific = SIGNAL_BY_STATE.get(transition.to_state)
        if specific is not None:
            specific.send(sender=Slate, **payload)
        transition.dispatched_at = timezone.now()
        transition.save(update_fields=["dispatched_at"])
    return True


def undispatched_transition_ids(*, older_than_seconds: int) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        SlateTransition.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )


# --- Partner organizations --------------------------------------------------------------------


@transaction.atomic
def create_partner_organization(
    *, name: str, kind: str, admin, website: str = "", slug: str | None = None
) -> PartnerOrganization:
    name = clean_text(
        name, field="name", error=SlateError, max_length=200, required=True,
        required_message="An organization needs a name.",
    )  # fmt: skip
    website = clean_text(website, field="website", error=SlateError, max_length=200)
    if kind not in PartnerOrganization.Kind.values:
        raise SlateError(
            "invalid_kind", "Choose union, civic, religious, advocacy or other.", field="kind"
        )
    slug = slugify(slug or name)[:70]
    if not slug or PartnerOrganization.objects.filter(slug=slug).exists():
        raise SlateError("invalid_slug", "That address is taken or empty.", field="slug")
    organization = PartnerOrganization.objects.create(
        name=name, kind=kind, website=website, slug=slug
    )
    organization.admins.add(admin)
    return organization


@transaction.atomic
def verify_partner_organization(*, organization: PartnerOrganization, actor) -> PartnerOrganization:
    if not (actor.is_authenticated and actor.is_staff):
        raise SlateError("forbidden", "Only staff verify organizations.")
    organization.verified = True
    organization.save(update_fields=["verified"])
    return organization


@transaction.atomic
def unverify_partner_organization(
    *, organization: PartnerOrganization, actor
) -> PartnerOrganization:
    """Staff found it is not who it says: its endorsements stop counting at once."""
    if not (actor.is_authenticated and actor.is_staff):
        raise SlateError("forbidden", "Only staff verify organizations.")
    organization.verified = False
    organization.save(update_fields=["verified"])
    return organization


@transaction.atomic
def endorse_slate(
    *, organization: PartnerOrganization, slate: Slate, actor, statement: str = ""
) -> Endorsement:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may endorse for it.")
    statement = clean_text(statement, field="statement", error=SlateError, max_length=2_000)
    slate = Slate.objects.get(pk=slate.pk)  # the caller's copy may predate a transition
    if slate.state not in (SlateState.OPEN, SlateState.LOCKED):
        raise SlateError("closed", "Only an open or locked slate can be endorsed.", field="slate")
    endorsement, _ = Endorsement.objects.update_or_create(
        organization=organization,
        slate=slate,
        defaults={"statement": statement, "endorsed_by": actor},
    )
    return endorsement


PARTNER_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_PARTNER_CODES = 200
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 256  # pixels; larger logos are scaled down


@transaction.atomic
def create_partner_code(
    *, organization: PartnerOrganization, actor, label: object, kind: str, code: object = ""
) -> PartnerCode:
    """A sub-code for one chapter, mailing or event. ``code`` (the link's last part) defaults
    to the label made into a short name."""
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may add its codes.")
    organization = PartnerOrganization.objects.select_for_update().get(pk=organization.pk)
    label = clean_text(
        label, field="label", error=SlateError, max_length=100, required=True,
        required_message="Name the chapter, mailing or event.",
    )  # fmt: skip
    if kind not in PartnerCode.Kind.values:
        raise SlateError("invalid_kind", "Choose chapter, mailing, event or other.", field="kind")
    code = clean_text(code, field="code", error=SlateError, max_length=32).lower()
    code = code or slugify(label)[:32].strip("-")
    if not PARTNER_CODE_RE.fullmatch(code):
        raise SlateError(
            "invalid_code",
            "Use up to 32 lower-case letters, digits and hyphens, starting with a letter or digit.",
            field="code",
        )
    if organization.codes.filter(code=code).exists():
        raise SlateError("code_taken", f"The code {code} is in use already.", field="code")
    if organization.codes.count() >= MAX_PARTNER_CODES:
        raise SlateError(
            "too_many_codes",
            f"An organization has at most {MAX_PARTNER_CODES} codes.",
            field="code",
        )
    return PartnerCode.objects.create(organization=organization, code=code, label=label, kind=kind)


def _logo_png(data: bytes) -> bytes:
    """``data`` as a small PNG, or a SlateError saying what is wrong with it. Re-encoding
    drops whatever else the file carried (metadata, scripts in SVG-like payloads)."""
    if not data:
        raise SlateError("invalid_logo", "Choose an image file.", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise SlateError("invalid_logo", "The logo must be under 2 MB.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise SlateError(
                    "invalid_logo", "Use a PNG, JPEG, GIF or WebP image.", field="logo"
                )
            if image.width * image.height > 40_000_000:
                raise SlateError("invalid_logo", "That image is too large.", field="logo")
            image = image.convert("RGBA")
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SlateError(
            "invalid_logo", "That file is not an image we can read.", field="logo"
        ) from None
    return out.getvalue()


@transaction.atomic
def set_partner_logo(*, organization: PartnerOrganization, actor, data: bytes) -> PartnerLogo:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may change its logo.")
    png = _logo_png(data)
    logo, _ = PartnerLogo.objects.update_or_create(
        organization=organization, defaults={"png": png, "updated_at": timezone.now()}
    )
    return logo


@transaction.atomic
def withdraw_endorsement(*, organization: PartnerOrganization, slate: Slate, actor) -> None:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError(
            "forbidden", "Only the organization's admins may withdraw its endorsement."
        )
    Endorsement.objects.filter(organization=organization, slate=slate).delete()
