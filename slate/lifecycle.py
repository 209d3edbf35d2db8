"""A slate's lifecycle: the one function that changes its state (``transition_slate``),
publishing and staff review, the threshold and the deadline, and the dispatch of each
transition's events after commit (its row is the outbox; see ``slate/events.py``)."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import selectors
from .errors import SlateError
from .events import SIGNAL_BY_STATE, slate_state_changed
from .models import Slate, SlateTransition
from .queue import enqueue_named_on_commit
from .services import lock_slate, require_organizer
from .states import SlateState, slate_transition_allowed
from .text import clean_text

logger = logging.getLogger(__name__)


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
    require_organizer(actor, slate)
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
