"""Deadline extensions: an organizer moves an open slate's deadline later, saying why, and
``slate_deadline_extended`` is sent once per extension after commit (so supporters are told)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .errors import SlateError
from .events import slate_deadline_extended
from .models import DeadlineExtension, Slate
from .queue import enqueue_named_on_commit
from .services import lock_slate, require_organizer
from .states import SlateState
from .text import clean_text


@transaction.atomic
def extend_deadline(*, slate: Slate, new_deadline, actor, reason: str) -> DeadlineExtension:
    """Move an open slate's deadline later, record who, when and why, and (after commit)
    announce ``slate_deadline_extended`` so supporters are told."""
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
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
