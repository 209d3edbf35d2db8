"""Organizer updates: write, preview, test, send to a segment, and count what happened.
This module has the body, the writing and the reading; who a segment reaches is in
``organizing.update_audience``, and the sending (steps 2 to 4 below) in
``organizing.update_sending``.

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

from dataclasses import dataclass, replace
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from slate import mail
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.links import public_url
from slate.models import Slate
from slate.queue import enqueue_named_on_commit

from .models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, OrganizerUpdate, UpdateRecipient
from .update_audience import (
    SEGMENT_KEYS,
    Segment,
    audience,
    opted_out_of_updates,
    parse_segment,
    segment_organizations,
)

PREPARE_TASK = "organizing.tasks.prepare_organizer_update"

R = UpdateRecipient.Status


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


def update_email(*, to: str, slate: Slate, subject: str, body: str, body_html=None) -> mail.Email:
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
    email = update_email(to=author.email, slate=slate, subject=f"[Test] {subject}", body=body)
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
        .filter(Exists(opted_out_of_updates(slate).filter(created_at__gte=OuterRef("settled_at"))))
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
