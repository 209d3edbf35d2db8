"""Emails to a slate's supporters about what its organizers did. Sent from Celery tasks."""

import logging
from datetime import timedelta

from django.utils import timezone

from pledges.models import SlateSupporter
from slate import mail
from slate.links import public_url
from slate.models import DeadlineExtension

logger = logging.getLogger(__name__)


def tell_supporters_deadline_extended(*, extension_id: int) -> int:
    """Email every supporter with a live pledge on the slate, once per extension: each email
    is send-once (its key names the extension and the supporter), so a retried task, or the
    sweeper finishing one that failed, skips whoever was told. A mail error propagates with
    nothing recorded for that supporter; the extension is marked told only at the end."""
    extension = DeadlineExtension.objects.select_related("slate").get(pk=extension_id)
    slate = extension.slate
    supporters = (
        SlateSupporter.objects.filter(slate=slate, live_pledge_count__gt=0)
        .select_related("supporter")
        .order_by("id")
    )
    sent = 0
    for row in supporters.iterator(chunk_size=1_000):
        if not row.supporter.email:
            continue
        sent += mail.send(
            mail.Email(
                to=row.supporter.email,
                subject=f"{slate.name}: the deadline moved to {extension.new_deadline:%B %-d, %Y}",
                template="organizing/email/deadline_extended.txt",
                context={
                    "slate": slate,
                    "extension": extension,
                    "url": public_url(slate.get_absolute_url()),
                },
                category=mail.Category.ORGANIZER_UPDATES,
                slate=slate,
            ),
            once=f"deadline:{extension.pk}:{row.supporter_id}",
        )
    DeadlineExtension.objects.filter(pk=extension.pk, told_at__isnull=True).update(
        told_at=timezone.now()
    )
    return sent


def untold_extension_ids(*, now=None, grace=timedelta(minutes=10), window=timedelta(days=7)):
    """Extensions announced more than ``grace`` ago (their task had its chance) whose
    supporters were not all told: the task failed for good or was lost."""
    now = now or timezone.now()
    return list(
        DeadlineExtension.objects.filter(
            told_at__isnull=True,
            dispatched_at__lte=now - grace,
            dispatched_at__gte=now - window,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def finish_untold_extensions(*, now=None) -> int:
    """Each untold extension in turn; one that fails (a mail error on one address, again)
    is logged and left for the next sweep, never stopping the others."""
    sent = 0
    for extension_id in untold_extension_ids(now=now):
        try:
            sent += tell_supporters_deadline_extended(extension_id=extension_id)
        except Exception:
            logger.exception("deadline extension %s: telling its supporters failed", extension_id)
    return sent
