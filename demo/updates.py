"""Demo data for organizer updates: one update the demo organizer sent three days ago to the
demo slate's supporters, on the sent-updates list with its counts.

Runs after ``demo.seed.seed_demo`` (it needs the demo slate, its organizer and supporters)
and does nothing once the demo slate has an update. No email goes out: the update is written
through the real services (checks, segment, audience and the cap) and its recipients are then
marked sent, as a finished send would leave them.
"""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from organizing import update_sending, updates
from organizing.models import OrganizerUpdate, UpdateRecipient
from slate.links import public_url
from slate.models import Slate

from .story import DEMO_SLATE_SLUG, ORGANIZER_EMAIL

SUBJECT = "Five signatures to go: come to the phone bank on Thursday"
BODY = """Thank you for backing the 2026 Coordinated Slate.

Three candidates have signed the agreement. **Five signatures** unlock the pot, and the
candidates who have not signed yet hear from their own voters most of all. This week:

- Call your candidate's office and ask them to sign
- Join the phone bank on **Thursday at 6pm** (bring a friend)

See who has signed on the [slate page]({url}).

— Olivia, for the organizers"""


def seed_update_demo(*, stdout=None) -> OrganizerUpdate | None:
    slate = Slate.objects.filter(slug=DEMO_SLATE_SLUG).first()
    if slate is None or slate.organizer_updates.exists():
        return None
    organizer = get_user_model().objects.get(email=ORGANIZER_EMAIL)
    with transaction.atomic():
        update = updates.queue_update(
            slate=slate, author=organizer, subject=SUBJECT, segment={},
            body=BODY.format(url=public_url(slate.get_absolute_url())),
            token=uuid.uuid4(),
        )  # fmt: skip
        update_sending.prepare(update.pk)
        sent_at = timezone.now() - timedelta(days=3)
        UpdateRecipient.objects.filter(update=update).update(created_at=sent_at)
        UpdateRecipient.objects.filter(update=update, status=UpdateRecipient.Status.PENDING).update(
            status=UpdateRecipient.Status.SENT, settled_at=sent_at
        )
        OrganizerUpdate.objects.filter(pk=update.pk).update(
            status=OrganizerUpdate.Status.SENT, created_at=sent_at, started_at=sent_at,
            finished_at=sent_at, progress_at=sent_at,
        )  # fmt: skip
    if stdout is not None:
        stdout.write(f"Organizer update sent to {update.slate.name}'s supporters (demo).\n")
    return update
