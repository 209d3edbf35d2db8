"""Sending an organizer update, in Celery tasks: ``prepare`` takes the audience and queues
the batches, ``send_batch`` sends one batch at the shared rate, and ``sweep`` queues again
the work of an update that stopped moving (the steps are in ``organizing.updates``)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from escrow.ratelimit import RateLimiter, limiter_for
from slate import mail
from slate.models import OutboundEmail
from slate.queue import enqueue_named_on_commit

from .models import OrganizerUpdate, UpdateRecipient
from .update_audience import SEGMENT_KEYS, Segment, audience, supporters_at_cap
from .updates import PREPARE_TASK, render_body, update_email

logger = logging.getLogger(__name__)

R = UpdateRecipient.Status
# Settled rows are written this many sends at a time (and the update's progress touched).
SETTLE_EVERY = 25
# One key for every worker: the mail provider's sending rate counts every update.
RATE_LIMIT_KEY = "slate:organizer-update-sends"
# Any fixed number, the same in every process: the advisory lock the cap is decided under.
CAP_LOCK_ID = 0x5_1A7E_0C4B
BATCH_TASK = "organizing.tasks.send_organizer_update_batch"
# What slate.mail recorded -> what the recipient row says.
MAIL_STATUS = {
    OutboundEmail.Status.SENT: R.SENT,
    OutboundEmail.Status.UNSUBSCRIBED: R.UNSUBSCRIBED,
    OutboundEmail.Status.SUPPRESSED: R.SUPPRESSED,
}


def prepare(update_id: int) -> int:
    """Take the audience and queue the batches; returns how many will be sent. Safe to run
    twice: only a ``queued`` update is prepared, in one transaction."""
    with transaction.atomic():
        update = (
            OrganizerUpdate.objects.select_for_update().select_related("slate").get(pk=update_id)
        )
        if update.status != OrganizerUpdate.Status.QUEUED:
            return 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CAP_LOCK_ID])
        now = timezone.now()
        segment = Segment(**{k: tuple(v) for k, v in update.segment.items() if k in SEGMENT_KEYS})
        people = audience(update.slate, segment)
        capped = set(supporters_at_cap(people, now=now).values_list("supporter_id", flat=True))
        rows, position = [], 0
        for pk, email in (
            people.order_by("pk").values_list("pk", "email").iterator(chunk_size=5_000)
        ):
            row = UpdateRecipient(
                update=update, supporter_id=pk, email=mail.normalize(email), created_at=now
            )
            if pk in capped:
                row.status, row.settled_at = R.SKIPPED_CAP, now
            else:
                row.status, row.seq = R.PENDING, position
                position += 1
            rows.append(row)
        UpdateRecipient.objects.bulk_create(rows, batch_size=5_000)
        update.status = OrganizerUpdate.Status.SENDING if position else OrganizerUpdate.Status.SENT
        update.audience_count = len(rows)
        update.skipped_cap_count = len(rows) - position
        update.started_at = update.progress_at = now
        update.finished_at = None if position else now
        update.save()
        for number in range((position + update.batch_size - 1) // update.batch_size):
            enqueue_named_on_commit(BATCH_TASK, update.pk, number)
    return position


def rate_limiter() -> RateLimiter:
    """One sending rate for every worker (through Redis where there is one)."""
    return limiter_for(
        float(settings.SLATE_UPDATE_SENDS_PER_SECOND),
        redis_url=settings.SLATE_RATE_LIMIT_REDIS_URL,
        key=RATE_LIMIT_KEY,
    )


def once_key(update_id: int, supporter_id: int) -> str:
    return f"organizer-update:{update_id}:user:{supporter_id}"


def _send_one(update: OrganizerUpdate, row: dict, body_html: str) -> tuple[str, str]:
    key = once_key(update.pk, row["supporter_id"])
    email = update_email(
        to=row["email"], slate=update.slate, subject=update.subject, body=update.body,
        body_html=body_html,
    )  # fmt: skip
    try:
        if mail.send(email, once=key):
            return R.SENT, ""
    except DatabaseError:
        raise  # the task retries; the row stays pending
    except Exception as exc:  # the mail server refused this one: count it, go on
        logger.warning("organizer update %s to %s failed: %r", update.pk, row["email"], exc)
        return R.FAILED, repr(exc)[:300]
    # Not sent now: turned off, suppressed, or sent already by an earlier run of this batch.
    recorded = OutboundEmail.objects.filter(key=key).values_list("status", flat=True).first()
    return MAIL_STATUS.get(recorded, R.FAILED), ""


def _settle(update: OrganizerUpdate, outcomes: list[tuple[int, str, str]]) -> None:
    now = timezone.now()
    by_status: dict[tuple[str, str], list[int]] = {}
    for pk, status, error in outcomes:
        by_status.setdefault((status, error), []).append(pk)
    with transaction.atomic():
        for (status, error), pks in by_status.items():
            UpdateRecipient.objects.filter(pk__in=pks, status=R.PENDING).update(
                status=status, error=error, settled_at=now
            )
        OrganizerUpdate.objects.filter(pk=update.pk).update(progress_at=now)


def send_batch(update_id: int, number: int) -> int:
    """Send batch ``number`` of the update: its recipients still pending. Returns how many
    went out now."""
    update = OrganizerUpdate.objects.select_related("slate").get(pk=update_id)
    if update.status != OrganizerUpdate.Status.SENDING:
        return 0
    rows = list(
        UpdateRecipient.objects.filter(
            update=update, status=R.PENDING,
            seq__gte=number * update.batch_size, seq__lt=(number + 1) * update.batch_size,
        ).order_by("seq").values("pk", "supporter_id", "email")
    )  # fmt: skip
    limiter, outcomes, sent = rate_limiter(), [], 0
    body_html = render_body(update.body)  # once per batch, not per email
    for row in rows:
        limiter.wait()
        status, error = _send_one(update, row, body_html)
        sent += status == R.SENT
        outcomes.append((row["pk"], status, error))
        if len(outcomes) >= SETTLE_EVERY:
            _settle(update, outcomes)
            outcomes = []
    if outcomes:
        _settle(update, outcomes)
    finish_if_done(update.pk)
    return sent


def finish_if_done(update_id: int) -> bool:
    if UpdateRecipient.objects.filter(update_id=update_id, status=R.PENDING).exists():
        return False
    now = timezone.now()
    return bool(
        OrganizerUpdate.objects.filter(pk=update_id, status=OrganizerUpdate.Status.SENDING).update(
            status=OrganizerUpdate.Status.SENT, finished_at=now, progress_at=now
        )
    )


def sweep() -> int:
    """Queue again the work of updates that stopped moving (a lost task, a killed worker).
    Returns how many tasks were queued."""
    stale = timezone.now() - timedelta(seconds=settings.SLATE_UPDATE_STALE_SECONDS)
    queued = 0
    for update in OrganizerUpdate.objects.exclude(status=OrganizerUpdate.Status.SENT).filter(
        progress_at__lt=stale
    ):
        with transaction.atomic():
            if update.status == OrganizerUpdate.Status.QUEUED:
                enqueue_named_on_commit(PREPARE_TASK, update.pk)
                queued += 1
            elif not finish_if_done(update.pk):
                positions = UpdateRecipient.objects.filter(
                    update=update, status=R.PENDING
                ).values_list("seq", flat=True)
                for number in sorted({seq // update.batch_size for seq in positions}):
                    enqueue_named_on_commit(BATCH_TASK, update.pk, number)
                    queued += 1
            OrganizerUpdate.objects.filter(pk=update.pk).update(progress_at=timezone.now())
    return queued
