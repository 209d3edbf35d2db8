"""Emails to a supporter about one pledge: confirmed, cancelled, voided at the lock, failed
(the card still needed them when the grace period ended).

The slate-wide news (charged at release, voided at expiry) and "your payment needs you" are
escrow's (``escrow.notifications``). Sent by Celery tasks after the change commits; each
(pledge, kind) is emailed at most once however often its task runs, and a lost task is
re-sent by a beat sweeper: ``PledgeNotice`` rows are the outbox.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from slate.links import public_url
from slate.states import SlateState

from .models import Pledge, PledgeNotice
from .states import PledgeKind, PledgeState, is_live

Kind = PledgeNotice.Kind

SUBJECTS = {
    Kind.CONFIRMED: "Your pledge to {slate} is confirmed",
    Kind.CANCELLED: "Your pledge to {slate} is cancelled",
    Kind.VOIDED: "Your pledge to {slate} was not used: nothing was charged",
    Kind.FAILED: "Your pledge to {slate} could not be charged",
}

# Expired slates' pledges are voided in bulk; escrow tells each supporter once about those.
SLATES_VOIDED_IN_BULK = (SlateState.EXPIRED, SlateState.VOIDED)

# A notice still unsent this long after its change is re-sent by the sweeper (its task was lost).
SWEEP_AFTER = timedelta(minutes=5)

_quiet: ContextVar[bool] = ContextVar("pledge_notices_quiet", default=False)


@contextmanager
def quiet():
    """No supporter emails for changes made inside (the demo seed's few hundred pledges)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def notice_for_change(pledge: Pledge, from_state: str) -> str | None:
    """Which email, if any, a pledge's change to its current state calls for."""
    if pledge.kind == PledgeKind.SIGNON:
        return None
    state = pledge.state
    if state == PledgeState.COMMITTED and from_state in ("", PledgeState.PENDING_CARD):
        return Kind.CONFIRMED
    if state == PledgeState.CANCELLED:
        return Kind.CANCELLED
    if state == PledgeState.VOIDED and pledge.slate.state not in SLATES_VOIDED_IN_BULK:
        return Kind.VOIDED
    if state == PledgeState.FAILED:
        return Kind.FAILED
    return None


def record_notice(pledge: Pledge, from_state: str) -> str | None:
    """Put the email a change calls for in the outbox, inside the change's transaction.
    Returns its kind, for the caller to enqueue the sending task after commit."""
    kind = notice_for_change(pledge, from_state)
    if kind is None or _quiet.get():
        return None
    PledgeNotice.objects.bulk_create(
        [PledgeNotice(pledge=pledge, kind=kind)], ignore_conflicts=True
    )
    return kind


def still_true(pledge: Pledge, kind: str) -> bool:
    """A late task does not announce news that is no longer so (confirmed, then cancelled)."""
    if kind == Kind.CONFIRMED:
        return is_live(pledge.kind, pledge.state)
    return pledge.state == kind


def pledge_url(pledge_id: int) -> str:
    return public_url(f"/pledges/{pledge_id}/")


def notify_supporter(*, pledge_id: int, kind: str) -> bool:
    """Send the outbox's ``kind`` email about a pledge unless it is settled already. Returns
    whether an email went out. The notice row is locked while sending and settled in the same
    transaction: a failed send leaves it unsettled (the retry, or the sweeper, sends), and a
    second task waits for the lock, then finds it settled."""
    with transaction.atomic():
        notice = (
            PledgeNotice.objects.select_for_update(of=("self",))
            .select_related("pledge__slate", "pledge__supporter")
            .filter(pledge_id=pledge_id, kind=kind)
            .first()
        )
        if notice is None or notice.settled_at is not None:
            return False
        pledge = notice.pledge
        notice.settled_at = timezone.now()
        notice.sent = still_true(pledge, kind)
        if notice.sent:
            body = render_to_string(
                f"pledges/email/{kind}.txt",
                {
                    "pledge": pledge,
                    "pledge_url": pledge_url(pledge.pk),
                    "grace_days": settings.SLATE_NEEDS_ACTION_GRACE_DAYS,
                },
            )
            subject = SUBJECTS[kind].format(slate=pledge.slate.name)
            send_mail(subject, body, None, [pledge.supporter.email])
        notice.save(update_fields=["settled_at", "sent"])
    return notice.sent


def unsettled_notices(*, now=None, older_than: timedelta = SWEEP_AFTER, limit: int = 1_000):
    """Outbox rows whose task should have run by now: (pledge_id, kind) pairs."""
    cutoff = (now or timezone.now()) - older_than
    return list(
        PledgeNotice.objects.filter(settled_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pledge_id", "kind")[:limit]
    )
