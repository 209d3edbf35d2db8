"""Organizer updates: write, preview, test, send to a segment, and count what happened.

The promise to supporters: an update reaches each person in its segment at most once, only
through ``slate.mail.send`` (so their preferences, suppression and one-click unsubscribe
apply), and no supporter gets more than ``SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS`` organizer
updates in 30 days across every slate (milestones and mail about their own pledge are not
counted): an update that would go over it skips them, and the composer says how many.

Sending, step by step:

1. ``queue_update`` (the composer's "Send"): checks the author organizes the slate and the
   update (subject, body, segment), writes it ``queued`` with the form's token (the same form
   sent twice is refused) and queues ``prepare``.
2. ``prepare_update`` (a task): under the update's row lock (and, on PostgreSQL, one advisory
   lock so two slates' updates decide the cap one after the other), takes the audience as it
   is now, writes one ``UpdateRecipient`` per person (``skipped_cap`` for those at the cap,
   else ``pending`` with a position), marks it ``sending`` and queues one task per batch.
3. ``send_batch`` (a task per batch): sends its pending recipients through ``slate.mail.send``
   with the send-once key ``organizer-update:<update>:user:<supporter>``, one shared rate
   (``SLATE_UPDATE_SENDS_PER_SECOND``) across every worker, and settles their rows a few at a
   time. A batch run twice (a retried task, a worker killed midway and the sweeper's resend)
   sends nobody twice: the key's row says who was sent already.
4. ``sweep`` (beat, every minute): an update left ``queued`` or ``sending`` with no progress
   for ``SLATE_UPDATE_STALE_SECONDS`` has lost its task or worker: its work is queued again.
"""

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from escrow.ratelimit import RateLimiter, limiter_for
from pledges.models import Pledge
from pledges.states import LIVE_MONEY_STATES, LIVE_NON_MONEY_STATES, PledgeKind, PledgeState
from slate import mail
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.geography import US_STATES
from slate.links import public_url
from slate.models import EmailOptOut, EmailSuppression, OutboundEmail, PartnerOrganization, Slate
from slate.queue import enqueue_named_on_commit

from .models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, OrganizerUpdate, UpdateRecipient

logger = logging.getLogger(__name__)

CAP_WINDOW = timedelta(days=30)
SEGMENT_KEYS = ("kinds", "states", "organizations", "pledge_states")
LIVE_STATES = LIVE_MONEY_STATES | LIVE_NON_MONEY_STATES
# Settled rows are written this many sends at a time (and the update's progress touched).
SETTLE_EVERY = 25
# One key for every worker: the mail provider's sending rate counts every update.
RATE_LIMIT_KEY = "slate:organizer-update-sends"
# Any fixed number, the same in every process: the advisory lock the cap is decided under.
CAP_LOCK_ID = 0x5_1A7E_0C4B
PREPARE_TASK = "organizing.tasks.prepare_organizer_update"
BATCH_TASK = "organizing.tasks.send_organizer_update_batch"

R = UpdateRecipient.Status
# What slate.mail recorded -> what the recipient row says.
MAIL_STATUS = {
    OutboundEmail.Status.SENT: R.SENT,
    OutboundEmail.Status.UNSUBSCRIBED: R.UNSUBSCRIBED,
    OutboundEmail.Status.SUPPRESSED: R.SUPPRESSED,
}


# --- The body: plain text with a Markdown subset ----------------------------------------------


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # "zero" turns every rule off; html stays off, so "<b>" is shown as text, never markup, and
    # markdown-it refuses javascript:, vbscript:, file: and data: links.
    return MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False}).enable(
        ["emphasis", "link", "list", "heading", "blockquote", "newline", "escape", "backticks"]
    )


def render_body(body: str) -> str:
    """The update's HTML: paragraphs, **bold**, *italic*, [links](https://...), lists,
    headings and quotes; anything else, raw HTML included, appears as the text it is."""
    return mark_safe(_markdown().render(body))  # noqa: S308  (markdown-it escapes; html off)


# --- Segments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    kinds: tuple[str, ...] = ()
    states: tuple[str, ...] = ()  # supporters' US states
    organizations: tuple[int, ...] = ()  # the partner organizations that referred them
    pledge_states: tuple[str, ...] = ()  # empty: live pledges

    def as_json(self) -> dict:
        return {key: list(getattr(self, key)) for key in SEGMENT_KEYS}

    def describe(self, organizations: dict[int, str] | None = None) -> str:
        parts = []
        if self.kinds:
            parts.append(" or ".join(PledgeKind(k).label.lower() for k in self.kinds))
        if self.pledge_states:
            parts.append("pledges " + " or ".join(PledgeState(s).label for s in self.pledge_states))
        if self.states:
            parts.append("in " + ", ".join(self.states))
        if self.organizations:
            names = organizations or {}
            parts.append("via " + ", ".join(names.get(pk, f"#{pk}") for pk in self.organizations))
        return "; ".join(parts) or "every supporter with a live pledge"


def segment_organizations(slate: Slate):
    """The organizations a segment may name: those endorsing the slate, and any whose links
    brought a pledge to it."""
    return (
        PartnerOrganization.objects.filter(
            Q(endorsements__slate=slate) | Q(referred_pledges__slate=slate)
        )
        .distinct()
        .order_by("name")
    )


def parse_segment(slate: Slate, data: dict | None) -> Segment:
    """A segment from a form or the API: unknown keys or values are refused by name."""
    data = data or {}
    unknown = set(data) - set(SEGMENT_KEYS)
    if unknown:
        raise DomainError(
            "unknown_segment", f"Unknown segment: {', '.join(sorted(unknown))}.", field="segment"
        )

    def values(key: str, allowed, convert=str) -> tuple:
        raw = data.get(key) or []
        if isinstance(raw, str | int):
            raw = [raw]
        try:
            chosen = tuple(sorted({convert(value) for value in raw}))
        except (TypeError, ValueError):
            chosen = None
        if chosen is None or not set(chosen) <= set(allowed):
            raise DomainError(
                "unknown_segment",
                f"Unknown segment: {key.replace('_', ' ')} {raw!r} is not one of the choices.",
                field=key,
            )
        return chosen

    return Segment(
        kinds=values("kinds", PledgeKind.values),
        states=values("states", [code for code, _ in US_STATES]),
        organizations=values(
            "organizations", set(segment_organizations(slate).values_list("pk", flat=True)), int
        ),
        pledge_states=values("pledge_states", PledgeState.values),
    )


def _segment_pledges(slate: Slate, segment: Segment):
    pledges = Pledge.objects.filter(
        slate=slate, state__in=segment.pledge_states or sorted(LIVE_STATES)
    )
    if segment.kinds:
        pledges = pledges.filter(kind__in=segment.kinds)
    if segment.states:
        pledges = pledges.filter(supporter_state__in=segment.states)
    if segment.organizations:
        pledges = pledges.filter(referred_by_id__in=segment.organizations)
    return pledges


def audience(slate: Slate, segment: Segment):
    """The supporters the segment names (each once), who have an email address."""
    return (
        get_user_model()
        .objects.filter(pk__in=_segment_pledges(slate, segment).values("supporter_id"))
        .exclude(email="")
    )


def _at_cap(supporters, *, now):
    """Of ``supporters`` (a queryset of users), the ids of those who already got (or are
    getting) the most organizer updates allowed in the last 30 days."""
    return (
        UpdateRecipient.objects.filter(
            supporter__in=supporters.values("pk"),
            status__in=(R.PENDING, R.SENT),
            created_at__gte=now - CAP_WINDOW,
        )
        .values("supporter_id")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS)
        .values("supporter_id")
    )


def _opted_out(slate: Slate):
    """Opt-outs of organizer updates (this slate's or all slates') for ``OuterRef("email")``."""
    return EmailOptOut.objects.filter(
        Q(slate=slate) | Q(slate__isnull=True),
        category=mail.Category.ORGANIZER_UPDATES,
        address=OuterRef("email"),
    )


@dataclass(frozen=True)
class AudienceSize:
    total: int  # in the segment, with an email address
    over_cap: int  # skipped: they had their updates for these 30 days
    opted_out: int  # turned organizer updates off, or suppressed (counted once, cap aside)

    @property
    def reached(self) -> int:
        return self.total - self.over_cap - self.opted_out


def audience_size(slate: Slate, segment: Segment) -> AudienceSize:
    """What the composer shows before sending (three counting queries)."""
    people = audience(slate, segment)
    now = timezone.now()
    over_cap = people.filter(pk__in=_at_cap(people, now=now))
    suppressed = EmailSuppression.objects.filter(address=OuterRef("email"))
    blocked = people.exclude(pk__in=_at_cap(people, now=now)).filter(
        Exists(_opted_out(slate)) | Exists(suppressed)
    )
    return AudienceSize(total=people.count(), over_cap=over_cap.count(), opted_out=blocked.count())


# --- Writing ----------------------------------------------------------------------------------


def check_content(subject: str, body: str) -> tuple[str, str]:
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise DomainError("empty_update", "Write a subject.", field="subject")
    if not body:
        raise DomainError("empty_update", "Write the update.", field="body")
    if len(subject) > SUBJECT_MAX_LENGTH or "\n" in subject or "\r" in subject:
        raise DomainError(
            "update_too_long",
            f"The subject must be one line of at most {SUBJECT_MAX_LENGTH} characters.",
            field="subject",
        )
    if len(body) > BODY_MAX_LENGTH:
        raise DomainError(
            "update_too_long",
            f"The update is {len(body):,} characters; at most {BODY_MAX_LENGTH:,} go in one email.",
            field="body",
        )
    return subject, body


def _check_organizer(slate: Slate, user) -> None:
    if not slate_selectors.is_organizer(user, slate):
        raise DomainError("not_organizer", "Only this slate's organizers write to its supporters.")


def _email(*, to: str, slate: Slate, subject: str, body: str, body_html=None) -> mail.Email:
    return mail.Email(
        to=to,
        subject=subject,
        template="organizing/email/update.txt",
        html_template="organizing/email/update.html",
        context={
            "slate": slate,
            "body": body,
            "body_html": body_html if body_html is not None else render_body(body),
            "url": public_url(slate.get_absolute_url()),
        },
        category=mail.Category.ORGANIZER_UPDATES,
        slate=slate,
    )


def send_test(*, slate: Slate, author, subject: str, body: str) -> bool:
    """The update as supporters would get it, to its author only (subject marked [Test])."""
    _check_organizer(slate, author)
    subject, body = check_content(subject, body)
    if not author.email:
        raise DomainError("no_email", "Your account has no email address to send the test to.")
    email = _email(to=author.email, slate=slate, subject=f"[Test] {subject}", body=body)
    # A test is sent even to an organizer who turned organizer updates off (it is theirs).
    return mail.send(
        replace(
            email,
            category=mail.Category.TRANSACTIONAL,
            reason=f"you are writing an update to the supporters of {slate.name}",
        )
    )


def queue_update(
    *, slate: Slate, author, subject: str, body: str, segment: dict, token
) -> OrganizerUpdate:
    """Write the update and queue its sending. Refused, with nothing written, for someone who
    does not organize the slate, an empty or oversized update, an unknown segment, a segment
    of nobody, or a form sent a second time (``token``)."""
    _check_organizer(slate, author)
    subject, body = check_content(subject, body)
    parsed = parse_segment(slate, segment)
    if OrganizerUpdate.objects.filter(token=token).exists():
        raise DomainError(
            "sent_twice", "This update was sent already; it goes to each supporter once."
        )
    if not audience(slate, parsed).exists():
        raise DomainError(
            "empty_segment",
            "No supporter with an email address is in this segment.",
            field="segment",
        )
    try:
        with transaction.atomic():
            update = OrganizerUpdate.objects.create(
                slate=slate,
                author=author,
                subject=subject,
                body=body,
                segment=parsed.as_json(),
                token=token,
                batch_size=max(1, settings.SLATE_UPDATE_BATCH_SIZE),
                progress_at=timezone.now(),
            )
            enqueue_named_on_commit(PREPARE_TASK, update.pk)
    except IntegrityError as exc:  # the same form, sent at the same moment
        raise DomainError(
            "sent_twice", "This update was sent already; it goes to each supporter once."
        ) from exc
    return update


# --- Sending (tasks) --------------------------------------------------------------------------


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
        capped = set(_at_cap(people, now=now).values_list("supporter_id", flat=True))
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
    email = _email(
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


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentUpdate:
    update: OrganizerUpdate
    segment: str
    sent: int
    failed: int
    not_wanted: int  # unsubscribed or suppressed when it was sent
    skipped_cap: int
    pending: int
    unsubscribed_since: int  # of those it reached, how many turned organizer updates off since


def sent_updates(slate: Slate, limit: int = 50) -> list[SentUpdate]:
    updates = list(
        slate.organizer_updates.select_related("author").annotate(
            n_sent=Count("recipients", filter=Q(recipients__status=R.SENT)),
            n_failed=Count("recipients", filter=Q(recipients__status=R.FAILED)),
            n_not_wanted=Count(
                "recipients", filter=Q(recipients__status__in=(R.UNSUBSCRIBED, R.SUPPRESSED))
            ),
            n_skipped=Count("recipients", filter=Q(recipients__status=R.SKIPPED_CAP)),
            n_pending=Count("recipients", filter=Q(recipients__status=R.PENDING)),
        )[:limit]
    )
    since = dict(
        UpdateRecipient.objects.filter(update__in=[u.pk for u in updates], status=R.SENT)
        .filter(Exists(_opted_out(slate).filter(created_at__gte=OuterRef("settled_at"))))
        .values("update_id")
        .annotate(n=Count("id"))
        .values_list("update_id", "n")
    )
    names = dict(segment_organizations(slate).values_list("pk", "name"))
    return [
        SentUpdate(
            update=u,
            segment=Segment(
                **{k: tuple(v) for k, v in u.segment.items() if k in SEGMENT_KEYS}
            ).describe(names),
            sent=u.n_sent,
            failed=u.n_failed,
            not_wanted=u.n_not_wanted,
            skipped_cap=u.n_skipped,
            pending=u.n_pending,
            unsubscribed_since=since.get(u.pk, 0),
        )
        for u in updates
    ]
