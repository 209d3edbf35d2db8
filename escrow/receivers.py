"""Escrow's answers to slate events; each only enqueues idempotent work."""

from django.dispatch import receiver

from slate.events import slate_expired, slate_locked, slate_released, slate_voided
from slate.queue import enqueue_named_on_commit


@receiver(slate_locked, dispatch_uid="escrow.release_on_lock")
def release_when_slate_locks(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("escrow.tasks.release_slate", slate_id)


@receiver(slate_expired, dispatch_uid="escrow.void_holds_on_expiry")
def void_holds_when_slate_expires(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("escrow.tasks.void_expired_slate_holds", slate_id)


@receiver(slate_released, dispatch_uid="escrow.tell_supporters_charged")
def tell_supporters_they_were_charged(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("escrow.tasks.tell_supporters", slate_id, "charged")


@receiver(slate_voided, dispatch_uid="escrow.tell_supporters_voided")
def tell_supporters_nothing_was_charged(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("escrow.tasks.tell_supporters", slate_id, "voided")
