"""Emails to a slate's supporters about what its organizers did. Sent from Celery tasks."""

from django.db import IntegrityError, transaction

from escrow.models import SupporterNotice
from pledges.models import SlateSupporter
from slate import mail
from slate.links import public_url
from slate.models import DeadlineExtension


def tell_supporters_deadline_extended(*, extension_id: int) -> int:
    """Email every supporter with a live pledge on the slate, once per extension (a
    SupporterNotice row per person makes a retried task skip whoever was told already)."""
    extension = DeadlineExtension.objects.select_related("slate").get(pk=extension_id)
    slate = extension.slate
    kind = f"deadline:{extension.pk}"
    supporters = (
        SlateSupporter.objects.filter(slate=slate, live_pledge_count__gt=0)
        .select_related("supporter")
        .order_by("id")
    )
    sent = 0
    for row in supporters.iterator(chunk_size=1_000):
        if not row.supporter.email:
            continue
        try:
            with transaction.atomic():
                SupporterNotice.objects.create(slate=slate, supporter=row.supporter, kind=kind)
        except IntegrityError:
            continue  # told already
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
            )
        )
    return sent
