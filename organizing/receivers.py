"""Answers to slate events that concern organizers' actions; each only enqueues work."""

from django.dispatch import receiver

from slate.events import slate_deadline_extended
from slate.queue import enqueue_on_commit


@receiver(slate_deadline_extended, dispatch_uid="organizing.tell_supporters_deadline")
def tell_supporters_the_deadline_moved(sender, slate_id: int, extension_id: int, **kwargs):
    from .tasks import tell_supporters_deadline_extended

    enqueue_on_commit(tell_supporters_deadline_extended, extension_id)
