"""Answers to slate events that concern organizers' actions; each only enqueues work."""

from django.dispatch import receiver

from slate.events import signature_changed, slate_deadline_extended, slate_locked, slate_released
from slate.queue import enqueue_named_on_commit


@receiver(slate_deadline_extended, dispatch_uid="organizing.tell_supporters_deadline")
def tell_supporters_the_deadline_moved(sender, slate_id: int, extension_id: int, **kwargs):
    enqueue_named_on_commit("organizing.tasks.tell_supporters_deadline_extended", extension_id)


# Milestone news to supporters (organizing.milestones); each task is idempotent.
@receiver(signature_changed, dispatch_uid="organizing.milestones_after_signature")
def milestones_after_a_signature(sender, slate_id: int, signed: bool, **kwargs):
    if not signed:
        return
    enqueue_named_on_commit("organizing.tasks.milestones_after_signature", slate_id)


@receiver(slate_locked, dispatch_uid="organizing.milestone_locked")
def milestone_when_the_slate_locks(sender, slate_id: int, **kwargs):
    enqueue_named_on_commit("organizing.tasks.milestone_locked", slate_id)


@receiver(slate_released, dispatch_uid="organizing.milestone_released")
def milestone_when_the_slate_is_released(sender, slate_id: int, **kwargs):
    enqueue_named_on_commit("organizing.tasks.milestone_released", slate_id)
