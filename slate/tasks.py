"""Thin Celery wrappers around slate services; each is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import deadlines, lifecycle, selectors

RETRYABLE = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 8}


@shared_task(**RETRYABLE)
def evaluate_threshold(slate_id: int) -> bool:
    return lifecycle.evaluate_threshold(slate_id=slate_id)


@shared_task
def evaluate_open_slates() -> int:
    """Beat: re-evaluate every open slate, catching any evaluation a lost message skipped."""
    ids = list(selectors.open_slates().values_list("id", flat=True))
    return sum(lifecycle.evaluate_threshold(slate_id=slate_id) for slate_id in ids)


@shared_task
def expire_overdue_slates() -> int:
    ids = selectors.overdue_open_slate_ids()
    return sum(lifecycle.expire_slate_if_overdue(slate_id=slate_id) is not None for slate_id in ids)


@shared_task(**RETRYABLE)
def dispatch_transition(transition_id: int) -> bool:
    return lifecycle.dispatch_transition(transition_id=transition_id)


@shared_task(**RETRYABLE)
def dispatch_deadline_extension(extension_id: int) -> bool:
    return deadlines.dispatch_deadline_extension(extension_id=extension_id)


@shared_task
def sweep_undispatched_transitions() -> int:
    """Beat: re-send lifecycle events and deadline notices that a crash left unsent."""
    after = settings.SLATE_EVENT_REDISPATCH_AFTER_SECONDS
    ids = lifecycle.undispatched_transition_ids(older_than_seconds=after)
    sent = sum(lifecycle.dispatch_transition(transition_id=tid) for tid in ids)
    extension_ids = deadlines.undispatched_extension_ids(older_than_seconds=after)
    return sent + sum(
        deadlines.dispatch_deadline_extension(extension_id=eid) for eid in extension_ids
    )
