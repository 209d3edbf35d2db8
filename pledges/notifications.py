"""Emails to a supporter about one pledge: confirmed, cancelled, voided at the lock, failed
(the card still needed them when the grace period ended), and one slate-wide piece of news:
a vote of the slate's signers recorded after the lock (``announce_vote_record``).

The slate-wide news (charged at release, voided at expiry) and "your payment needs you" are
escrow's (``escrow.notifications``). Sent by Celery tasks after the change commits; each
(pledge, kind) is emailed at most once however often its task runs, and a lost task is
re-sent by a beat sweeper: ``PledgeNotice`` rows are the outbox.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from candidates.models import VoteRecord
from slate import mail
from slate.links import public_url
from slate.states import SlateState

from .models import Pledge, PledgeNotice
from .selectors import LIVE
from .states import PledgeKind, PledgeState, is_live

Kind = PledgeNotice.Kind

SUBJECTS = {
    Kind.CONFIRMED: "Your pledge to {slate} is confirmed",
    Kind.CANCELLED: "Your pledge to {slate} is cancelled",
    Kind.VOIDED: "Your pledge to {slate} was not used: nothing was charged",
    Kind.FAILED: "Your pledge to {slate} could not be charged",
    Kind.VOTE_RECORD: "How {slate}'s signers voted",
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
        with mail.quiet():
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
    if kind == Kind.VOTE_RECORD:
        return True  # a record stays; whether it still exists is checked where it is read
    if kind == Kind.CONFIRMED:
        return is_live(pledge.kind, pledge.state)
    return pledge.state == kind


def pledge_url(pledge_id: int) -> str:
    return public_url(f"/pledges/{pledge_id}/")


def _email_context(pledge: Pledge, kind: str, key: str) -> dict | None:
    context = {
        "pledge": pledge,
        "pledge_url": pledge_url(pledge.pk),
        "grace_days": settings.SLATE_NEEDS_ACTION_GRACE_DAYS,
    }
    if kind == Kind.VOTE_RECORD:
        record = (
            VoteRecord.objects.filter(pk=key, slate_id=pledge.slate_id)
            .prefetch_related("votes__candidate")
            .first()
        )
        if record is None:  # deleted by staff since: nothing to tell
            return None
        context["record"] = record
        context["slate_url"] = public_url(pledge.slate.get_absolute_url())
    return context


def notify_supporter(*, pledge_id: int, kind: str, key: str = "") -> bool:
    """Send the outbox's ``kind`` email about a pledge unless it is settled already. Returns
    whether an email went out. The notice row is locked while sending and settled in the same
    transaction: a failed send leaves it unsettled (the retry, or the sweeper, sends), and a
    second task waits for the lock, then finds it settled."""
    with transaction.atomic():
        notice = (
            PledgeNotice.objects.select_for_update(of=("self",))
            .select_related("pledge__slate", "pledge__supporter")
            .filter(pledge_id=pledge_id, kind=kind, key=key)
            .first()
        )
        if notice is None or notice.settled_at is not None:
            return False
        pledge = notice.pledge
        notice.settled_at = timezone.now()
        context = _email_context(pledge, kind, key) if still_true(pledge, kind) else None
        notice.sent = context is not None
        if notice.sent:
            optional = kind == Kind.VOTE_RECORD
            notice.sent = mail.send(
                mail.Email(
                    to=pledge.supporter.email,
                    subject=SUBJECTS[kind].format(slate=pledge.slate.name),
                    template=f"pledges/email/{kind}.txt",
                    context=context,
                    category=(
                        mail.Category.ORGANIZER_UPDATES if optional else mail.Category.TRANSACTIONAL
                    ),
                    slate=pledge.slate,
                    reason=f"you pledged to {pledge.slate.name}",
                ),
                once=f"pledge-notice:{notice.pk}",
            )
        notice.save(update_fields=["settled_at", "sent"])
    return notice.sent


def unsettled_notices(*, now=None, older_than: timedelta = SWEEP_AFTER, limit: int = 1_000):
    """Outbox rows whose task should have run by now: (pledge_id, kind, key) triples."""
    cutoff = (now or timezone.now()) - older_than
    return list(
        PledgeNotice.objects.filter(settled_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pledge_id", "kind", "key")[:limit]
    )


def announce_vote_record(*, record_id: int) -> list[tuple[int, str, str]]:
    """Put a vote record's email in the outbox once per supporter of its slate (anyone with a
    live pledge there), on their earliest live pledge. The record's row lock serialises two
    runs, and a supporter already told about this record (on any of their pledges) is not
    told again. Returns the (pledge_id, kind, key) of the notices written, for the caller to
    send after commit; the sweeper sends any whose task is lost."""
    key = str(record_id)
    with transaction.atomic():
        record = VoteRecord.objects.select_for_update().filter(pk=record_id).first()
        if record is None or _quiet.get():
            return []
        told = set(
            PledgeNotice.objects.filter(
                kind=Kind.VOTE_RECORD, key=key, pledge__slate_id=record.slate_id
            ).values_list("pledge__supporter_id", flat=True)
        )
        first_pledges: dict[int, int] = {}
        live = Pledge.objects.filter(LIVE, slate_id=record.slate_id).order_by("created_at", "id")
        for pledge_id, supporter_id in live.values_list("id", "supporter_id"):
            if supporter_id not in told:
                first_pledges.setdefault(supporter_id, pledge_id)
        notices = [
            PledgeNotice(pledge_id=pledge_id, kind=Kind.VOTE_RECORD, key=key)
            for pledge_id in first_pledges.values()
        ]
        PledgeNotice.objects.bulk_create(notices, ignore_conflicts=True)
    return [(n.pledge_id, Kind.VOTE_RECORD, key) for n in notices]
