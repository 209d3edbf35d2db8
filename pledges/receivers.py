"""The pledges app's answers to slate events. Each only enqueues idempotent work."""

from django.dispatch import receiver

from slate.events import slate_expired
from slate.queue import enqueue_named_on_commit


@receiver(slate_expired, dispatch_uid="pledges.void_on_expiry")
def void_pledges_when_slate_expires(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("pledges.tasks.void_expired_slate", slate_id)
