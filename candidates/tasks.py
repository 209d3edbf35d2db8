"""Thin Celery wrappers around candidates' work; each is safe to run twice."""

from celery import shared_task

from slate import mail

from . import asks, news, notifications


@shared_task(**mail.TASK_RETRY)
def email_invitation_link(invitation_id: int, email: str) -> bool:
    return notifications.email_invitation_link(invitation_id=invitation_id, email=email)


@shared_task(**mail.TASK_RETRY)
def send_weekly_digests() -> int:
    """Beat, weekly: queue this week's digests, then send every one not yet settled."""
    news.queue_digests()
    ids = news.unsettled_notice_ids(kind=news.Kind.DIGEST)
    return sum(news.send_notice(notice_id=notice_id) for notice_id in ids)


@shared_task(**mail.TASK_RETRY)
def send_one_away_notices() -> int:
    """Beat, every few minutes: queue "one signature away" where a slate needs one more, send
    those, and send any digest a failed run left unsettled."""
    news.queue_one_away()
    ids = news.unsettled_notice_ids(kind=news.Kind.ONE_AWAY)
    ids += news.unsettled_notice_ids(kind=news.Kind.DIGEST, older_than=news.RESEND_AFTER)
    return sum(news.send_notice(notice_id=notice_id) for notice_id in ids)


@shared_task(**mail.TASK_RETRY)
def send_ask_link(request_id: int) -> bool:
    """Email an ask's confirmation link; safe to run twice (a second link is harmless)."""
    return asks.send_ask_link(request_id=request_id)
