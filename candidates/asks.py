"""Supporters ask an invited candidate to sign: the writes (``record_ask``, ``hide_ask``) and
the reads the pages show (counts per candidate, recent messages, the public contact).

An ask is counted pressure, so its limits are the point: one per supporter per candidate per
slate (a unique constraint backs the check), only while the slate takes commitments and the
candidate has neither signed nor declined, and at most ``ASKS_PER_IP_PER_HOUR`` from one
address, so one person with many accounts cannot inflate a count quickly.

Someone without an account (or not signed in) asks by email instead (``request_ask_by_email``):
name, address and message, confirmed by a link emailed to that address (the approach and the
helpers of sign-ons, ``slate.email_links``). Nothing counts until the link is followed; then
the request becomes the ask of that address's account (created without a password when there
is none), so one address is one ask however it asked. Requests are limited per IP address
like asks.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from slate import email_links, mail
from slate import selectors as slate_selectors
from slate import services as slate_services
from slate.errors import SlateError
from slate.links import public_url
from slate.models import Slate
from slate.text import clean_text

from . import selectors
from .models import Ask, AskRequest, Candidate, Invitation
from .services import CandidateError

MAX_ASK_MESSAGE_CHARS = 500
ASKS_PER_IP_PER_HOUR = getattr(settings, "SLATE_ASKS_PER_IP_PER_HOUR", 20)
MAX_ASKER_NAME_CHARS = 100
ASK_LINK_SALT = "candidates.ask-link"
ASK_LINK_MESSAGES = email_links.LinkMessages(
    expired="This link has expired. Ask again to get a new one.",
    bad="This link is not one we sent. Ask again.",
)


def _refuse_unless_askable(slate: Slate, candidate: Candidate) -> Invitation:
    """The one check behind both the page (to show why not) and the write."""
    if not slate.accepts_commitments():
        raise CandidateError("slate_closed", "This slate is not taking asks: it is not open.")
    invitation = Invitation.objects.filter(slate=slate, candidate=candidate).first()
    if invitation is None or invitation.status == Invitation.Status.REVOKED:
        raise CandidateError("not_invited", f"{candidate} is not invited to this slate.")
    if invitation.status == Invitation.Status.DECLINED:
        raise CandidateError("declined", f"{candidate} has declined this slate's invitation.")
    if selectors.valid_signatures(slate).filter(candidate=candidate).exists():
        raise CandidateError("already_signed", f"{candidate} has already signed.")
    return invitation


def askable_refusal(slate: Slate, candidate: Candidate) -> str:
    """Why no one can ask this candidate now ('' when they can)."""
    try:
        _refuse_unless_askable(slate, candidate)
    except CandidateError as refused:
        return refused.message
    return ""


def _refuse_if_too_many(model, ip_address) -> None:
    """At most ``ASKS_PER_IP_PER_HOUR`` asks (or requests to ask by email) from one address."""
    if not ip_address:
        return
    since = timezone.now() - timedelta(hours=1)
    recent = model.objects.filter(ip_address=ip_address, created_at__gte=since).count()
    if recent >= ASKS_PER_IP_PER_HOUR:
        raise CandidateError(
            "rate_limited", "Too many asks from your network in the last hour; try later."
        )


@transaction.atomic
def record_ask(
    *, slate: Slate, candidate: Candidate, supporter, message: str = "", ip_address=None
) -> Ask:
    if not supporter.is_authenticated:
        raise CandidateError("forbidden", "Log in to ask a candidate to sign.")
    message = clean_text(
        message, field="message", error=CandidateError, max_length=MAX_ASK_MESSAGE_CHARS
    )
    try:
        # Shared lock, as for pledges: asks do not queue on each other, but none lands on a
        # slate whose lock or expiry is committing.
        slate = slate_services.lock_slate_shared(slate.pk)
    except SlateError as exc:
        raise CandidateError(exc.code, exc.message) from None
    _refuse_unless_askable(slate, candidate)
    if Ask.objects.filter(slate=slate, candidate=candidate, supporter=supporter).exists():
        raise CandidateError("already_asked", f"You have already asked {candidate} to sign.")
    _refuse_if_too_many(Ask, ip_address)
    try:
        with transaction.atomic():
            return Ask.objects.create(
                slate=slate,
                candidate=candidate,
                supporter=supporter,
                message=message,
                ip_address=ip_address or None,
            )
    except IntegrityError:  # the same supporter, twice at once
        raise CandidateError(
            "already_asked", f"You have already asked {candidate} to sign."
        ) from None


# --- Asking by email --------------------------------------------------------------------------


@transaction.atomic
def request_ask_by_email(
    *,
    slate: Slate,
    candidate: Candidate,
    name: object,
    email: object,
    message: object = "",
    ip_address=None,
) -> AskRequest:
    """Record the ask and email its confirmation link. The same address again is the same
    request (details not yet confirmed are replaced, the link re-sent at most once per
    ``email_links.RESEND_AFTER``). Nothing counts until the link is followed."""
    name = clean_text(
        name, field="name", error=CandidateError, max_length=MAX_ASKER_NAME_CHARS,
        required=True, required_message="Enter your name.",
    )  # fmt: skip
    email = email_links.clean_email(email, error=CandidateError)
    message = clean_text(
        message, field="message", error=CandidateError, max_length=MAX_ASK_MESSAGE_CHARS
    )
    _refuse_unless_askable(slate, candidate)  # checked again, under the lock, on confirming
    request = (
        AskRequest.objects.select_for_update()
        .filter(slate=slate, candidate=candidate, email=email)
        .first()
    )
    if request is not None and request.confirmed_at is not None:
        raise CandidateError("already_asked", f"You have already asked {candidate} to sign.")
    if request is None:
        _refuse_if_too_many(AskRequest, ip_address)
        try:
            with transaction.atomic():
                request = AskRequest.objects.create(
                    slate=slate, candidate=candidate, email=email, name=name,
                    message=message, ip_address=ip_address or None,
                )  # fmt: skip
        except IntegrityError:  # the same address, twice at once: the other one sends
            return AskRequest.objects.get(slate=slate, candidate=candidate, email=email)
    else:
        request.name, request.message = name, message
    email_links.queue_link_if_due("candidates.tasks.send_ask_link", request)
    request.save()
    return request


def ask_confirmation_token(request: AskRequest) -> str:
    return email_links.make_token(salt=ASK_LINK_SALT, pk=request.pk, email=request.email)


def ask_request_for_token(token: str) -> AskRequest:
    """The request a link names, or a CandidateError saying why the link is no good."""
    return email_links.request_for_token(
        token,
        queryset=AskRequest.objects.select_related("slate", "candidate"),
        salt=ASK_LINK_SALT,
        max_age=email_links.LINK_MAX_AGE,
        error=CandidateError,
        messages=ASK_LINK_MESSAGES,
    )


@transaction.atomic
def confirm_ask(*, token: str) -> Ask:
    """Follow the link: the request becomes the address's ask, once however often it is
    followed. If that account asked already (signed in), the earlier ask is the one."""
    request = ask_request_for_token(token)
    request = AskRequest.objects.select_for_update().get(pk=request.pk)
    if request.ask_id is not None:
        return request.ask
    supporter = email_links.account_for(request.email, request.name)
    ask = Ask.objects.filter(
        slate=request.slate, candidate=request.candidate, supporter=supporter
    ).first()
    if ask is None:
        # The IP limit was applied when the request was made; the ask keeps no address.
        ask = record_ask(
            slate=request.slate, candidate=request.candidate, supporter=supporter,
            message=request.message,
        )  # fmt: skip
    request.ask, request.confirmed_at = ask, timezone.now()
    request.save(update_fields=["ask", "confirmed_at"])
    return ask


def send_ask_link(*, request_id: int) -> bool:
    """Email the confirmation link (the task's body); none for a request confirmed since."""
    request = AskRequest.objects.select_related("slate", "candidate").filter(pk=request_id).first()
    if request is None or request.confirmed_at is not None:
        return False
    link = public_url(reverse("candidates:ask-confirm", args=[ask_confirmation_token(request)]))
    return mail.send(
        mail.Email(
            to=request.email,
            subject=f"Confirm your ask: {request.candidate.full_name} to sign {request.slate.name}",
            template="candidates/email/ask_link.txt",
            context={"request": request, "link": link, "days": email_links.LINK_MAX_AGE.days},
            slate=request.slate,
            reason=f"this address was given to ask {request.candidate.full_name} to sign",
        )
    )


@transaction.atomic
def hide_ask(*, ask: Ask, actor, hidden: bool = True) -> Ask:
    """An organizer hides (or shows again) an ask's message; the ask still counts."""
    ask = Ask.objects.select_for_update().select_related("slate").get(pk=ask.pk)
    if not slate_selectors.is_organizer(actor, ask.slate):
        raise CandidateError("forbidden", "Only this slate's organizers may hide a message.")
    ask.hidden_at = timezone.now() if hidden else None
    ask.hidden_by = actor if hidden else None
    ask.save(update_fields=["hidden_at", "hidden_by"])
    return ask


# --- Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AskCounts:
    total: int = 0
    this_week: int = 0


def ask_counts(slate: Slate) -> dict[int, AskCounts]:
    """candidate id -> their asks on this slate, in total and in the last seven days."""
    week_ago = timezone.now() - timedelta(days=7)
    rows = (
        Ask.objects.filter(slate=slate)
        .values("candidate_id")
        .annotate(total=Count("id"), this_week=Count("id", filter=Q(created_at__gte=week_ago)))
    )
    return {
        row["candidate_id"]: AskCounts(total=row["total"], this_week=row["this_week"])
        for row in rows
    }


def ask_count(slate: Slate, candidate: Candidate) -> int:
    return Ask.objects.filter(slate=slate, candidate=candidate).count()


def public_messages(slate: Slate, candidate: Candidate, limit: int = 20) -> list[Ask]:
    """The latest messages organizers have not hidden, with who wrote them (first name)."""
    return list(
        Ask.objects.filter(slate=slate, candidate=candidate, hidden_at__isnull=True)
        .exclude(message="")
        .select_related("supporter")[:limit]
    )


def slate_asks(slate: Slate, limit: int = 200):
    """The newest asks of a slate with their messages, hidden ones too (for organizers)."""
    return Ask.objects.filter(slate=slate).select_related("candidate", "supporter")[:limit]


def has_asked(slate: Slate, candidate: Candidate, user) -> bool:
    if not user.is_authenticated:
        return False
    return Ask.objects.filter(slate=slate, candidate=candidate, supporter=user).exists()
