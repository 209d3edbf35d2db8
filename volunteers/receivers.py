"""The volunteers app's answer to the slate locking: match the volunteers, after commit."""

from django.dispatch import receiver

from slate.events import slate_locked
from slate.queue import enqueue_named_on_commit


@receiver(slate_locked, dispatch_uid="volunteers.match_on_lock")
def match_volunteers_when_slate_locks(sender, slate_id: int, **kwargs) -> None:
    enqueue_named_on_commit("volunteers.tasks.match_volunteers", slate_id)
