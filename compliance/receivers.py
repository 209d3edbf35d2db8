"""Compliance's answers to slate events. Receipts: the ledger posts with one INSERT ... ON
CONFLICT (no model signal), so a beat job sends them every five minutes
(``compliance.tasks.send_missing_receipts``); a released slate also sends its at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from slate.events import slate_released
from slate.queue import enqueue_on_commit

from .models import ContributionLimit, Election, ElectionCycle
from .rules import forget_shared_rules
from .tasks import request_missing_donor_details, send_missing_receipts

for _model in (ElectionCycle, Election, ContributionLimit):
    for _signal in (post_save, post_delete):
        _signal.connect(
            forget_shared_rules, sender=_model, dispatch_uid=f"rules-{_model.__name__}-{_signal}"
        )


@receiver(slate_released, dispatch_uid="compliance.after_release")
def after_release(sender, slate_id: int, **kwargs) -> None:
    enqueue_on_commit(send_missing_receipts)
    enqueue_on_commit(request_missing_donor_details)
