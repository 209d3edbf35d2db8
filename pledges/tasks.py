"""Thin Celery wrappers around pledge services; each is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from slate import mail
from slate.models import Slate
from slate.states import SlateState

from . import notifications, services, signons


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def void_expired_slate(slate_id: int) -> int:
    """Void one chunk, then hand the rest to a fresh task so no task runs for long."""
    voided = services.void_pledges_of_expired_slate(
        slate_id=slate_id, chunk_size=settings.SLATE_VOID_CHUNK_SIZE
    )
    if voided == settings.SLATE_VOID_CHUNK_SIZE:
        void_expired_slate.delay(slate_id)
    else:
        services.finish_voiding_if_done(slate_id=slate_id)
    return voided


@shared_task
def sweep_expired_slates() -> int:
    """Beat: restart voiding for any expired slate whose task was lost."""
    ids = list(Slate.objects.filter(state=SlateState.EXPIRED).values_list("id", flat=True))
    for slate_id in ids:
        void_expired_slate.delay(slate_id)
    return len(ids)


@shared_task(**mail.TASK_RETRY)
def notify_supporter(pledge_id: int, kind: str, key: str = "") -> bool:
    return notifications.notify_supporter(pledge_id=pledge_id, kind=kind, key=key)


@shared_task
def sweep_pledge_notices() -> int:
    """Beat: re-send supporter emails whose task was lost (see pledges.notifications)."""
    triples = notifications.unsettled_notices()
    for pledge_id, kind, key in triples:
        notify_supporter.delay(pledge_id, kind, key)
    return len(triples)


@shared_task(**mail.TASK_RETRY)
def announce_vote_record(record_id: int) -> int:
    """A vote record's email to each supporter of its slate, once each however often this
    runs (queued by name from candidates.votes)."""
    written = notifications.announce_vote_record(record_id=record_id)
    for pledge_id, kind, key in written:
        notify_supporter.delay(pledge_id, kind, key)
    return len(written)


@shared_task(**mail.TASK_RETRY)
def send_sign_on_link(request_id: int) -> bool:
    """Email a sign-on's confirmation link; safe to run twice (a second link is harmless)."""
    return signons.send_sign_on_link(request_id=request_id)
