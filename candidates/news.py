"""The news that reaches a candidate who has not signed: the live figures (for the invitation
email, the weekly digest and the "one signature away" email) and the outbox that sends each
digest and each "one away" email once.

``CandidateNotice`` rows are the outbox, as ``PledgeNotice`` is for supporters: a notice is
queued once per (slate, candidate, kind, period) — a unique constraint, so queueing twice
queues nothing — and the sending task locks the row, sends, and settles it in one
transaction; a second run waits for the lock and finds it settled. A failed send leaves it
unsettled for the next run. Candidates are emailed at the address of the account that claimed
their profile (an unclaimed profile has no stored address: the invitation link is emailed
once and not kept).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from slate import mail
from slate.links import public_url
from slate.models import OutboundEmail, Slate, SlateBreakdownShard
from slate.selectors import SlateProgress, breakdown_slice, open_slates, slate_progress
from slate.totals import BreakdownCounts

from . import asks, selectors
from .models import Candidate, CandidateNotice, Invitation

Kind = CandidateNotice.Kind
SUBJECTS = {
    Kind.DIGEST: "This week on {slate}: what is waiting for you",
    Kind.ONE_AWAY: "{slate} is one signature away",
}
# A queued notice still unsettled this long after it was queued is sent by the next run.
RESEND_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class WeekCounts:
    money_cents: int
    volunteer_hours: int
    pledge_count: int


@dataclass(frozen=True)
class CandidateFigures:
    """What is waiting for one candidate on one slate, and what changed in the last week."""

    slate: Slate
    candidate: Candidate
    progress: SlateProgress
    from_state: BreakdownCounts
    asks: asks.AskCounts
    signers: list[Candidate]
    new_signers: list[Candidate]  # signed in the last seven days
    week: WeekCounts  # pledged in the last seven days (from the maintained 'day' breakdown)


def _week_counts(slate: Slate, now: datetime) -> WeekCounts:
    first_day = (now - timedelta(days=6)).date().isoformat()
    sums = SlateBreakdownShard.objects.filter(
        slate=slate, dimension="day", key__gte=first_day
    ).aggregate(money=Sum("money_cents"), hours=Sum("volunteer_hours"), count=Sum("pledge_count"))
    return WeekCounts(
        money_cents=sums["money"] or 0,
        volunteer_hours=sums["hours"] or 0,
        pledge_count=sums["count"] or 0,
    )


def candidate_figures(slate: Slate, candidate: Candidate, now=None) -> CandidateFigures:
    now = now or timezone.now()
    signatures = list(
        selectors.valid_signatures(slate).select_related("candidate").order_by("signed_at")
    )
    week_ago = now - timedelta(days=7)
    return CandidateFigures(
        slate=slate,
        candidate=candidate,
        progress=slate_progress(slate, now=now),
        from_state=breakdown_slice(slate.pk, "state", candidate.state),
        asks=asks.ask_counts(slate).get(candidate.pk, asks.AskCounts()),
        signers=[s.candidate for s in signatures],
        new_signers=[s.candidate for s in signatures if s.signed_at >= week_ago],
        week=_week_counts(slate, now),
    )


def iso_week(now: datetime) -> str:
    year, week, _ = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def _unsigned_claimed_invitations(slate: Slate):
    """Standing invitations of candidates who have not signed and can be emailed."""
    signed = selectors.valid_signatures(slate).values("candidate_id")
    return (
        selectors.active_invitations(slate)
        .exclude(candidate_id__in=signed)
        .filter(candidate__user__isnull=False)
        .exclude(candidate__user__email="")
        .select_related("candidate")
    )


def _still_true(notice: CandidateNotice) -> bool:
    """A late task does not send news that is no longer so."""
    slate, candidate = notice.slate, notice.candidate
    if not slate.accepts_commitments() or candidate.user_id is None:
        return False
    if not _unsigned_claimed_invitations(slate).filter(candidate=candidate).exists():
        return False
    if notice.kind == Kind.DIGEST:
        return not candidate.digest_paused
    return slate_progress(slate).verdict.signatures_needed == 1


# --- Queueing ---------------------------------------------------------------------------------


def queue_digests(now=None) -> int:
    """Queue this ISO week's digest for every unsigned, reachable candidate of every open
    slate who has not paused it. Queueing twice in a week queues nothing new."""
    period = iso_week(now or timezone.now())
    notices = [
        CandidateNotice(slate=slate, candidate=i.candidate, kind=Kind.DIGEST, period=period)
        for slate in open_slates()
        for i in _unsigned_claimed_invitations(slate).filter(candidate__digest_paused=False)
    ]
    return len(CandidateNotice.objects.bulk_create(notices, ignore_conflicts=True))


def queue_one_away() -> int:
    """When an open slate needs exactly one more signature, queue one email to each unsigned
    candidate: once per candidate and slate."""
    notices = []
    for slate in open_slates():
        if not slate.accepts_commitments():
            continue
        if slate_progress(slate).verdict.signatures_needed != 1:
            continue
        notices += [
            CandidateNotice(slate=slate, candidate=i.candidate, kind=Kind.ONE_AWAY)
            for i in _unsigned_claimed_invitations(slate)
        ]
    return len(CandidateNotice.objects.bulk_create(notices, ignore_conflicts=True))


# --- Sending ----------------------------------------------------------------------------------


def send_notice(*, notice_id: int) -> bool:
    """Send one queued notice unless it is settled already; returns whether an email went
    out. The row stays locked while sending and is settled in the same transaction."""
    with transaction.atomic():
        notice = (
            CandidateNotice.objects.select_for_update(of=("self",))
            .select_related("slate", "candidate__user")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None or notice.settled_at is not None:
            return False
        notice.settled_at = timezone.now()
        notice.sent = _still_true(notice)
        if notice.sent:
            figures = candidate_figures(notice.slate, notice.candidate)
            notice.sent = mail.send(
                mail.Email(
                    to=notice.candidate.user.email,
                    subject=SUBJECTS[notice.kind].format(slate=notice.slate.name),
                    template=f"candidates/email/{notice.kind}.txt",
                    context={
                        "f": figures,
                        "sign_url": public_url(
                            reverse("candidates:sign", args=[notice.slate.slug])
                        ),
                        "home_url": public_url(reverse("candidates:home")),
                        "slate_url": public_url(notice.slate.get_absolute_url()),
                    },
                    category=mail.Category.CANDIDATE_NEWS,
                    slate=notice.slate,
                    reason=f"you are invited to stand on {notice.slate.name} and have not signed",
                    track_opens=True,
                ),
                once=f"candidate-notice:{notice.pk}",
            )
        notice.save(update_fields=["settled_at", "sent"])
    return notice.sent


def unsettled_notice_ids(*, kind: str | None = None, older_than=timedelta(0)) -> list[int]:
    cutoff = timezone.now() - older_than
    notices = CandidateNotice.objects.filter(settled_at__isnull=True, created_at__lte=cutoff)
    if kind:
        notices = notices.filter(kind=kind)
    return list(notices.order_by("created_at").values_list("id", flat=True)[:1_000])


def invitation_figures(invitation: Invitation) -> CandidateFigures:
    return candidate_figures(invitation.slate, invitation.candidate)


@dataclass(frozen=True)
class LastEmail:
    sent_at: datetime
    opened_at: datetime | None  # as the provider reported it (SLATE_EMAIL_TRACK_OPENS)


def last_emails(slate: Slate) -> dict[int, LastEmail]:
    """candidate id -> our last news email to them about this slate (digest or one away), and
    when they opened it where the mail provider reports opens. One query."""
    opened = OutboundEmail.objects.filter(
        key=Concat(Value("candidate-notice:"), Cast(OuterRef("pk"), CharField()))
    ).values("opened_at")[:1]
    rows = (
        CandidateNotice.objects.filter(slate=slate, sent=True)
        .annotate(opened_at=Subquery(opened))
        .order_by("candidate_id", "settled_at", "pk")
        .values_list("candidate_id", "settled_at", "opened_at")
    )
    # Ordered oldest first, so each candidate's last notice is the one kept.
    return {candidate_id: LastEmail(sent, opened) for candidate_id, sent, opened in rows}
