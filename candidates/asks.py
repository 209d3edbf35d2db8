"""Supporters ask an invited candidate to sign: the writes (``record_ask``, ``hide_ask``) and
the reads the pages show (counts per candidate, recent messages, the public contact).

An ask is counted pressure, so its limits are the point: one per supporter per candidate per
slate (a unique constraint backs the check), only while the slate takes commitments and the
candidate has neither signed nor declined, and at most ``ASKS_PER_IP_PER_HOUR`` from one
address, so one person with many accounts cannot inflate a count quickly.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from slate import selectors as slate_selectors
from slate import services as slate_services
from slate.errors import SlateError
from slate.models import Slate
from slate.text import clean_text

from . import selectors
from .models import Ask, Candidate, Invitation
from .services import CandidateError

MAX_ASK_MESSAGE_CHARS = 500
ASKS_PER_IP_PER_HOUR = getattr(settings, "SLATE_ASKS_PER_IP_PER_HOUR", 20)


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
    if ip_address:
        since = timezone.now() - timedelta(hours=1)
        recent = Ask.objects.filter(ip_address=ip_address, created_at__gte=since).count()
        if recent >= ASKS_PER_IP_PER_HOUR:
            raise CandidateError(
                "rate_limited", "Too many asks from your network in the last hour; try later."
            )
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
