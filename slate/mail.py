"""The one way Slate sends email.

Every email goes through ``send``: it checks the address is not suppressed (bounced,
complained, or suppressed by staff) and, unless the email is transactional, that the recipient
has not turned its kind off for this slate or for all; it renders the plain-text template and
an HTML part in the Slate style, both with a footer saying why the person gets it and linking
to their email preferences (a signed link that needs no login); it names the slate in the
sender's display name; it adds the one-click unsubscribe headers (RFC 8058) to everything that
is not transactional; and it records the email in ``OutboundEmail``.

Send once: ``send(email, once="some-key")`` sends at most one email per key however often it
is called, at the same moment or later. The key's row is inserted (or found), locked, and
settled in the same transaction as the send: a mail error rolls it back, so a retry sends; a
second caller waits for the lock, then finds it settled. Callers build keys from their own ids
("milestone:12:user:7") and pass ``once`` whenever a task may run twice.

    from slate import mail
    mail.send(
        mail.Email(
            to=user.email,
            subject=f"{slate.name}: one signature to go",
            template="organizing/email/one_to_go.txt",
            context={...},
            category=EmailCategory.MILESTONES,
            slate=slate,
            reason=f"you support {slate.name}",
        ),
        once=f"milestone:{news.pk}:user:{user.pk}",
    )
"""

import hashlib
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, Q, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .links import public_url
from .models import (
    EmailCategory,
    EmailOptOut,
    EmailSuppression,
    MailgunWebhookToken,
    OutboundEmail,
    Slate,
)

logger = logging.getLogger(__name__)

Category = EmailCategory
Status = OutboundEmail.Status
# The kinds a recipient may turn off, in the order the preferences page shows them.
OPTIONAL = [c for c in EmailCategory if c != EmailCategory.TRANSACTIONAL]
LINK_SALT = "slate.mail.preferences"

DEFAULT_REASONS = {
    Category.TRANSACTIONAL: "it is about your pledge, your money or your account",
    Category.MILESTONES: "you support {slate} and its milestones are on in your preferences",
    Category.ORGANIZER_UPDATES: "you support {slate} and its organizers' updates are on in your "
    "preferences",
    Category.VOLUNTEER_REMINDERS: "you signed up for a volunteer shift",
    Category.CANDIDATE_NEWS: "you are invited to stand on {slate}",
}


@dataclass(frozen=True)
class Email:
    """One email to one address. ``template`` is the plain-text body's template; the HTML
    part is ``html_template`` if given, else the plain text set in the Slate style."""

    to: str
    subject: str
    template: str
    context: dict = field(default_factory=dict)
    category: str = Category.TRANSACTIONAL
    slate: Slate | None = None
    # Why this person gets it, ending the sentence "You get this email because ...".
    reason: str = ""
    attachments: tuple = ()  # (filename, content, mimetype)
    html_template: str | None = None
    # Ask the provider to report opens (the candidates' emails: the organizer dashboard shows
    # whether an unsigned candidate opened the last one). Only where SLATE_EMAIL_TRACK_OPENS.
    track_opens: bool = False


# The retry options of a Celery task that sends email: a database hiccup, or the mail server or
# provider failing (smtplib's errors and anymail's requests errors are OSErrors), is retried
# with backoff. A failed send records nothing (see ``send``), so the retry sends it, and
# send-once keys keep a retried fan-out from telling anyone twice.
TASK_RETRY = {
    "autoretry_for": (OperationalError, OSError),
    "retry_backoff": True,
    "max_retries": 8,
}


def normalize(address: str) -> str:
    return address.strip().lower()


# --- Preferences and suppression --------------------------------------------------------------


def _suppressions(address: str):
    return EmailSuppression.objects.filter(address=normalize(address))


def _opt_outs(address: str, category: str, slate_id: int | None):
    scope = Q(slate__isnull=True)
    if slate_id is not None:
        scope |= Q(slate_id=slate_id)
    return EmailOptOut.objects.filter(scope, address=normalize(address), category=category)


def is_suppressed(address: str) -> bool:
    return _suppressions(address).exists()


def wants(address: str, category: str, slate_id: int | None = None) -> bool:
    """Whether ``address`` takes ``category`` email about ``slate_id``: transactional mail
    always; anything else unless turned off for all slates or for this one."""
    if category == Category.TRANSACTIONAL:
        return True
    return not _opt_outs(address, category, slate_id).exists()


def blocked(address: str, category: str, slate_id: int | None = None) -> str | None:
    """Why an email would not go out (a ``Status``), or None if it would."""
    if is_suppressed(address):
        return Status.SUPPRESSED
    if not wants(address, category, slate_id):
        return Status.UNSUBSCRIBED
    return None


def suppress(address: str, *, reason: str, detail: str = "", provider: str = "") -> bool:
    """Send nothing more to ``address``. Returns whether it was newly suppressed."""
    _, created = EmailSuppression.objects.get_or_create(
        address=normalize(address),
        defaults={"reason": reason, "detail": detail[:500], "provider": provider[:40]},
    )
    return created


def set_wanted(address: str, category: str, slate_id: int | None, wanted: bool) -> None:
    """Turn ``category`` on or off for one slate (``slate_id``) or for all (None)."""
    if category == Category.TRANSACTIONAL:
        raise ValueError("transactional email cannot be turned off")
    rows = EmailOptOut.objects.filter(
        address=normalize(address), category=category, slate_id=slate_id
    )
    if wanted:
        rows.delete()
    elif not rows.exists():
        EmailOptOut.objects.bulk_create(
            [EmailOptOut(address=normalize(address), category=category, slate_id=slate_id)],
            ignore_conflicts=True,
        )


def unsubscribe(address: str, *, category: str | None, slate_id: int | None) -> None:
    """The one-click unsubscribe: turn off the kind of email the link came in (for its slate),
    or, for a link that names no kind, everything optional on every slate."""
    if category is None or category == Category.TRANSACTIONAL:
        for each in OPTIONAL:
            set_wanted(address, each, None, False)
    else:
        set_wanted(address, category, slate_id, False)


# --- Signed links -----------------------------------------------------------------------------


def preferences_token(address: str, *, slate_id: int | None = None, category=None) -> str:
    return signing.dumps(
        {"e": normalize(address), "s": slate_id, "c": category and str(category)},
        salt=LINK_SALT,
    )


@dataclass(frozen=True)
class LinkFacts:
    address: str
    slate_id: int | None
    category: str | None


class BadLink(Exception):
    """A preferences or unsubscribe link that was altered or is too old."""


def read_token(token: str) -> LinkFacts:
    max_age = settings.SLATE_EMAIL_LINK_MAX_AGE_DAYS * 86_400
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
        facts = LinkFacts(address=data["e"], slate_id=data["s"], category=data["c"])
    except signing.SignatureExpired as exc:
        raise BadLink("This link has expired.") from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadLink("This link is not valid (it may have been cut short or changed).") from exc
    if not isinstance(facts.address, str) or "@" not in facts.address:
        raise BadLink("This link is not valid.")
    if facts.category is not None and facts.category not in Category.values:
        raise BadLink("This link is not valid.")
    if facts.slate_id is not None and not isinstance(facts.slate_id, int):
        raise BadLink("This link is not valid.")
    return facts


def preferences_url(address: str, *, slate_id=None, category=None) -> str:
    token = preferences_token(address, slate_id=slate_id, category=category)
    return public_url(reverse("email:preferences", args=[token]))


def unsubscribe_url(address: str, *, slate_id=None, category=None) -> str:
    token = preferences_token(address, slate_id=slate_id, category=category)
    return public_url(reverse("email:unsubscribe", args=[token]))


# --- Rendering --------------------------------------------------------------------------------


def sender(slate: Slate | None) -> str:
    """DEFAULT_FROM_EMAIL, with the slate's name in the display name when there is one."""
    name, addr = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if slate is None:
        return settings.DEFAULT_FROM_EMAIL
    display = f"{slate.name} via {name or 'Slate'}"
    return str(Address(display_name=display, addr_spec=addr))


def _reason(email: Email) -> str:
    reason = email.reason or DEFAULT_REASONS[email.category]
    return reason.format(slate=email.slate.name if email.slate else "a slate")


def build(email: Email) -> EmailMultiAlternatives:
    """The message ``send`` sends: plain text and HTML, footer, sender and headers."""
    slate_id = email.slate.pk if email.slate else None
    category = None if email.category == Category.TRANSACTIONAL else email.category
    footer = {
        "reason": _reason(email),
        "transactional": email.category == Category.TRANSACTIONAL,
        "preferences_url": preferences_url(email.to, slate_id=slate_id, category=category),
        "slate": email.slate,
        "category_label": Category(email.category).label,
    }
    context = {**email.context, "email_footer": footer}
    body = render_to_string(email.template, context).rstrip() + "\n"
    text = body + render_to_string("slate/email/footer.txt", footer)
    body_html = render_to_string(email.html_template, context) if email.html_template else None
    html = render_to_string(
        "slate/email/base.html",
        {"subject": email.subject, "body_text": body, "body_html": body_html, **footer},
    )
    headers = {}
    if category is not None:
        headers["List-Unsubscribe"] = (
            f"<{unsubscribe_url(email.to, slate_id=slate_id, category=category)}>"
        )
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        email.subject, text, sender(email.slate), [email.to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    if email.track_opens and settings.SLATE_EMAIL_TRACK_OPENS:
        message.track_opens = True  # anymail's option; other backends ignore it
    for attachment in email.attachments:
        message.attach(*attachment)
    return message


def record_open(provider_message_id: str, address: str, *, at=None) -> bool:
    """The provider saw this message opened: the first report stamps it, later ones (every
    re-open, a replayed event) change nothing. Matched on the provider's id and the address,
    so an event naming another recipient's message stamps nothing."""
    return bool(
        OutboundEmail.objects.filter(
            provider_message_id=provider_message_id[:200],
            to=normalize(address),
            opened_at__isnull=True,
        ).update(opened_at=at or timezone.now())
    )


def claim_webhook_token(token: str, *, expires_at) -> bool:
    """Note a signed Mailgun webhook call's token; False if it was seen before (a replay).
    Call it inside the transaction that acts on the event: if that fails, the token is not
    kept and the provider's retry is taken. A concurrent call with the same token waits for
    this transaction and then finds it."""
    MailgunWebhookToken.objects.filter(expires_at__lt=timezone.now()).delete()
    digest = hashlib.sha256(token.encode()).hexdigest()
    try:
        with transaction.atomic():  # a savepoint: the duplicate's error leaves the rest usable
            MailgunWebhookToken.objects.create(token_sha256=digest, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


# --- Sending ----------------------------------------------------------------------------------


def deliver(message: EmailMultiAlternatives) -> None:
    """Hand one built message to the mail backend (the tests stand a broken server in here)."""
    message.send()


def _blocked_in_the_same_read(email: Email) -> dict:
    """``blocked``'s two questions as subqueries (annotations ``suppressed`` and
    ``turned_off``) of a read that ``send`` makes anyway: no round trip of their own."""
    slate_id = email.slate.pk if email.slate else None
    turned_off = (
        Exists(_opt_outs(email.to, email.category, slate_id))
        if email.category != Category.TRANSACTIONAL
        else Value(False)
    )
    return {"suppressed": Exists(_suppressions(email.to)), "turned_off": turned_off}


def _deliver(row: OutboundEmail, email: Email, why_not: str | None) -> None:
    """Send ``email`` unless ``why_not`` (``blocked``'s answer) says why it may not go."""
    row.status = why_not or Status.SENT
    if row.status == Status.SENT:
        message = build(email)
        deliver(message)
        status = getattr(message, "anymail_status", None)
        if status is not None and status.message_id not in (None, ""):
            row.provider_message_id = str(status.message_id)[:200]
    row.settled_at = timezone.now()


_quiet: ContextVar[bool] = ContextVar("slate_mail_quiet", default=False)


@contextmanager
def quiet():
    """Send nothing, and record nothing, for work done inside (the demo seed: its made-up
    supporters need no milestone news). Tasks run eagerly inside are quiet too; tasks a worker
    runs later are not."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def send(email: Email, *, once: str | None = None) -> bool:
    """Send ``email`` unless the address is suppressed or (not transactional) its recipient
    turned this kind off; with ``once``, unless an email with that key was settled already.
    Returns whether it went out. A mail error propagates (and records nothing), so the
    caller's task retries."""
    if _quiet.get():
        return False
    fields = {
        "to": normalize(email.to),
        "slate": email.slate,
        "category": email.category,
        "subject": email.subject[:300],
    }
    with transaction.atomic():
        if once is None:
            row = OutboundEmail(**fields)
            _deliver(row, email, blocked(email.to, email.category, row.slate_id))
            row.save()
        else:
            OutboundEmail.objects.bulk_create(
                [OutboundEmail(key=once, **fields)], ignore_conflicts=True
            )
            # The key's row, locked (only it: the subqueries lock nothing), read with what
            # ``blocked`` asks. A row not settled is the one just inserted, with these fields:
            # another caller's row would be settled (it waits for ours to commit, or ours for
            # its), and a failed send's row was rolled back.
            row = (
                OutboundEmail.objects.select_for_update(of=("self",))
                .annotate(**_blocked_in_the_same_read(email))
                .get(key=once)
            )
            if row.settled_at is not None:
                return False
            why_not = (
                Status.SUPPRESSED
                if row.suppressed
                else Status.UNSUBSCRIBED
                if row.turned_off
                else None
            )
            _deliver(row, email, why_not)
            row.save(update_fields=["status", "settled_at", "provider_message_id"])
    if row.status != Status.SENT:
        logger.info("email %r to %s not sent: %s", email.subject, email.to, row.status)
    return row.status == Status.SENT
