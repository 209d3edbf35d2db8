"""Emails to a slate's supporters about what its organizers did. Sent from Celery tasks."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from escrow.models import SupporterNotice
from pledges.models import SlateSupporter
from slate.models import DeadlineExtension


def tell_supporters_deadline_extended(*, extension_id: int) -> int:
    """Email every supporter with a live pledge on the slate, once per extension (a
    SupporterNotice row per person makes a retried task skip whoever was told already)."""
    extension = DeadlineExtension.objects.select_related("slate").get(pk=extension_id)
    slate = extension.slate
    kind = f"deadline:{extension.pk}"
    base = settings.SLATE_PUBLIC_URL.rstrip("/")
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
        body = render_to_string(
            "organizing/email/deadline_extended.txt",
            {"slate": slate, "extension": extension, "url": base + slate.get_absolute_url()},
        )
        send_mail(
            f"{slate.name}: the deadline moved to {extension.new_deadline:%B %-d, %Y}",
            body,
            None,
            [row.supporter.email],
        )
        sent += 1
    return sent
