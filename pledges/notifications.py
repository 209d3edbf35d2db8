"""Emails to a supporter about one pledge: confirmed, cancelled, voided at the lock.

The slate-wide news (charged at release, voided at expiry) and "your payment needs you" are
escrow's (``escrow.notifications``). Sent by Celery tasks after the change commits; each
(pledge, kind) is emailed at most once however often its task runs.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from slate.states import SlateState

from .models import Pledge, PledgeNotice
from .states import PledgeKind, PledgeState, is_live

Kind = PledgeNotice.Kind

SUBJECTS = {
    Kind.CONFIRMED: "Your pledge to {slate} is confirmed",
    Kind.CANCELLED: "Your pledge to {slate} is cancelled",
    Kind.VOIDED: "Your pledge to {slate} was not used: nothing was charged",
}

# Expired slates' pledges are voided in bulk; escrow tells each supporter once about those.
SLATES_VOIDED_IN_BULK = (SlateState.EXPIRED, SlateState.VOIDED)

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
    if _quiet.get():
        return None
    if pledge.kind == PledgeKind.SIGNON:
        return None
    state = pledge.state
    if state == PledgeState.COMMITTED and from_state in ("", PledgeState.PENDING_CARD):
        return Kind.CONFIRMED
    if state == PledgeState.CANCELLED:
        return Kind.CANCELLED
    if state == PledgeState.VOIDED and pledge.slate.state not in SLATES_VOIDED_IN_BULK:
        return Kind.VOIDED
    return None


def still_true(pledge: Pledge, kind: str) -> bool:
    """A late task does not announce news that is no longer so (confirmed, then cancelled)."""
    if kind == Kind.CONFIRMED:
        return is_live(pledge.kind, pledge.state)
    return pledge.state == kind


def pledge_url(pledge_id: int) -> str:
    return f"{settings.SLATE_PUBLIC_URL.rstrip('/')}/pledges/{pledge_id}/"


def notify_supporter(*, pledge_id: int, kind: str) -> bool:
    """Email the pledge's supporter about ``kind`` unless told already. Returns whether an
    email went out. The notice row and the send share a transaction: a failed send leaves no
    row (the retry sends), and a second task waits on the row's unique key, then skips."""
    with transaction.atomic():
        pledge = Pledge.objects.select_related("slate", "supporter").get(pk=pledge_id)
        if not still_true(pledge, kind):
            return False
        try:
            with transaction.atomic():
                PledgeNotice.objects.create(pledge=pledge, kind=kind)
        except IntegrityError:
            return False  # told already
        body = render_to_string(
            f"pledges/email/{kind}.txt", {"pledge": pledge, "pledge_url": pledge_url(pledge.pk)}
        )
        subject = SUBJECTS[kind].format(slate=pledge.slate.name)
        send_mail(subject, body, None, [pledge.supporter.email])
    return True
