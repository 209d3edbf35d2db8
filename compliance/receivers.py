"""Compliance's answers to slate events. Receipts: the ledger posts with one INSERT ... ON
CONFLICT (no model signal), so a beat job sends them every five minutes
(``compliance.tasks.send_missing_receipts``); a released slate also sends its at once."""

from django.dispatch import receiver

from slate.events import slate_released
from slate.queue import enqueue_on_commit


@receiver(slate_released, dispatch_uid="compliance.after_release")
def after_release(sender, slate_id: int, **kwargs) -> None:
    from .tasks import request_missing_donor_details, send_missing_receipts

    enqueue_on_commit(send_missing_receipts)
    enqueue_on_commit(request_missing_donor_details)
