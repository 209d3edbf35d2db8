"""Organizer updates: an email an organizer writes to a segment of a slate's supporters.

``OrganizerUpdate`` is the update as written, with its segment and progress; one
``UpdateRecipient`` per supporter it is for, written when the update is prepared (the audience
as it was then, each person once) and settled as the batches send (``organizing.updates``).
The recipients of the last 30 days are also what the cap on asks counts.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from slate.models import Slate

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20_000


class OrganizerUpdate(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"  # written; its audience not yet taken
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="organizer_updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField()  # plain text with a Markdown subset, never raw HTML
    # {"kinds": [...], "states": [...], "organizations": [ids], "pledge_states": [...]}; an
    # empty list means no narrowing (pledge_states empty: live pledges).
    segment = models.JSONField(default=dict, blank=True)
    # From the composer's form: the same form sent twice is the same update, refused.
    token = models.UUIDField(default=uuid.uuid4, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    batch_size = models.PositiveIntegerField()
    audience_count = models.PositiveIntegerField(default=0)
    skipped_cap_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched by every batch as it goes: an update sending with no progress for a while has
    # lost a worker, and the sweeper sends its remaining batches again.
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "progress_at"],
                condition=~models.Q(status="sent"),
                name="update_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"update #{self.pk} to {self.slate}: {self.subject}"


class UpdateRecipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"  # turned organizer updates off
        SUPPRESSED = "suppressed", "Suppressed"  # bounced, complained or suppressed by staff
        SKIPPED_CAP = "skipped_cap", "Skipped (too many updates this month)"

    update = models.ForeignKey(OrganizerUpdate, on_delete=models.CASCADE, related_name="recipients")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(max_length=254)
    # Position among the update's recipients to send: batch n is seq in [n*size, (n+1)*size).
    seq = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["update", "supporter"], name="update_recipient_once"),
        ]
        indexes = [
            models.Index(fields=["update", "status", "seq"], name="update_recipient_batch"),
            # The cap: a supporter's updates of the last 30 days.
            models.Index(fields=["supporter", "created_at"], name="update_recipient_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.email} for update #{self.update_id}: {self.status}"
