"""Milestone news to a slate's supporters, sent automatically and to each supporter once:

- "<candidate> signed": batched, at most one email a day per slate (``MilestoneNews`` of kind
  ``signed`` per date, naming the candidates who signed since the last one);
- "one signature to go", once per slate, while it is still so;
- "the slate locked: here is what happens to your pledge", once per slate;
- "released: what your money and hours did", once per slate, to those not charged (a charged
  supporter reads the same results in the charge receipt, which goes out regardless).

Triggered by the slate's events (``organizing.receivers``: a signature, the lock, the
release) and by a beat task that sends the next day's "signed" batch and finishes any
fan-out a failed task left. Each supporter's email goes through ``slate.mail.send`` with the
key ``milestone:<news id>:<supporter id>``, so a task that runs twice, or two at once, tells
nobody twice; whoever turned milestones off (for this slate or all) is skipped there.
"""

from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.utils import timezone

from candidates.selectors import valid_signatures
from pledges.models import Pledge, SlateSupporter
from pledges.selectors import live_pledges_by_supporter
from pledges.states import PledgeKind, PledgeState
from slate import mail
from slate.links import public_url
from slate.models import MilestoneNews, OutboundEmail, Slate
from slate.selectors import slate_counts, slate_progress
from slate.states import SlateState

Kind = MilestoneNews.Kind

SUBJECTS = {
    Kind.SIGNED: "{slate}: {names} signed",
    Kind.ONE_TO_GO: "{slate} is one signature away from locking",
    Kind.LOCKED: "{slate} locked: here is what happens to your pledge",
    Kind.RELEASED: "{slate} is released: what your money and hours did",
}
# The first "signed" news of a slate names signatures from this far back at most (not every
# signature since the slate opened, the day this feature is switched on).
SIGNED_LOOKBACK = timedelta(days=2)
LOCKED_OR_LATER = (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED)
# Supporters read, and their pledges read in one query, per batch of the fan-out.
FAN_OUT_BATCH = 500


def key(news: MilestoneNews, supporter_id: int) -> str:
    return f"milestone:{news.pk}:{supporter_id}"


def _names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _subject(news: MilestoneNews) -> str:
    return SUBJECTS[news.kind].format(slate=news.slate.name, names=_names(news.names))


def _supporters(news: MilestoneNews):
    rows = SlateSupporter.objects.filter(slate=news.slate, live_pledge_count__gt=0)
    if news.kind == Kind.RELEASED:
        # Whoever was charged hears of the release in the charge receipt (escrow's "charged"
        # notice, which must go out anyway and carries the same results): one email, not two.
        charged = Pledge.objects.filter(
            slate=news.slate, kind=PledgeKind.MONEY, state=PledgeState.CAPTURED
        ).values("supporter_id")
        rows = rows.exclude(supporter_id__in=charged)
    return rows.select_related("supporter").order_by("id")


def _context(news: MilestoneNews, pledges: list[Pledge], counts, signers) -> dict:
    return {
        "slate": news.slate,
        "news": news,
        "names": _names(news.names),
        "counts": counts,
        "signers": signers,
        "money": [p for p in pledges if p.kind == PledgeKind.MONEY],
        "hours": sum(p.hours for p in pledges if p.kind == PledgeKind.VOLUNTEER),
        "signed_on": any(p.kind == PledgeKind.SIGNON for p in pledges),
        "slate_url": public_url(news.slate.get_absolute_url()),
        "pledges_url": public_url("/pledges/"),
    }


def fan_out(news: MilestoneNews) -> int:
    """Email the news to every supporter of the slate not yet told. Returns how many went."""
    slate = news.slate
    told = set(
        OutboundEmail.objects.filter(key__startswith=f"milestone:{news.pk}:").values_list(
            "key", flat=True
        )
    )
    counts = slate_counts(slate.pk)
    signers = [
        s.candidate.full_name
        for s in valid_signatures(slate).select_related("candidate").order_by("signed_at")
    ]
    sent = 0
    waiting = (
        row.supporter
        for row in _supporters(news).iterator(chunk_size=FAN_OUT_BATCH)
        if row.supporter.email and key(news, row.supporter_id) not in told
    )
    for batch in _batches(waiting, FAN_OUT_BATCH):
        pledges = live_pledges_by_supporter(slate, [supporter.pk for supporter in batch])
        for supporter in batch:
            sent += mail.send(
                mail.Email(
                    to=supporter.email,
                    subject=_subject(news),
                    template=f"organizing/email/milestone_{news.kind}.txt",
                    context=_context(news, pledges[supporter.pk], counts, signers),
                    category=mail.Category.MILESTONES,
                    slate=slate,
                    reason=f"you support {slate.name} and its milestones are on in your "
                    "preferences",
                ),
                once=key(news, supporter.pk),
            )
    return sent


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _news(slate: Slate, kind: str, period: str = "", **fields) -> MilestoneNews:
    news, _ = MilestoneNews.objects.get_or_create(
        slate=slate, kind=kind, period=period, defaults=fields
    )
    return news


def announce_signatures(*, slate_id: int, now=None) -> int:
    """Today's "signed" news for an open slate: made once a day, naming the candidates who
    signed since the last one; later signatures wait for tomorrow's. Returns emails sent."""
    now = now or timezone.now()
    slate = Slate.objects.get(pk=slate_id)
    if slate.state != SlateState.OPEN:
        return 0  # the lock's news says who signed
    today = timezone.localdate(now).isoformat()
    news = MilestoneNews.objects.filter(slate=slate, kind=Kind.SIGNED, period=today).first()
    if news is None:
        last = (
            MilestoneNews.objects.filter(slate=slate, kind=Kind.SIGNED)
            .order_by("-covers_until")
            .first()
        )
        since = now - SIGNED_LOOKBACK
        if last is not None and last.covers_until > since:
            since = last.covers_until
        names = [
            s.candidate.full_name
            for s in valid_signatures(slate)
            .filter(signed_at__gt=since, signed_at__lte=now)
            .select_related("candidate")
            .order_by("signed_at")
        ]
        if not names:
            return 0
        news = _news(slate, Kind.SIGNED, today, names=names, covers_until=now)
    return fan_out(news)


def announce_one_to_go(*, slate_id: int) -> int:
    """ "One signature to go", once per slate, sent only while it is so."""
    slate = Slate.objects.get(pk=slate_id)
    if not slate.accepts_commitments():
        return 0
    if slate_progress(slate).verdict.signatures_needed != 1:
        return 0
    return fan_out(_news(slate, Kind.ONE_TO_GO))


def announce_locked(*, slate_id: int) -> int:
    slate = Slate.objects.get(pk=slate_id)
    if slate.state not in LOCKED_OR_LATER:
        return 0
    return fan_out(_news(slate, Kind.LOCKED))


def announce_released(*, slate_id: int) -> int:
    slate = Slate.objects.get(pk=slate_id)
    if slate.state != SlateState.RELEASED:
        return 0
    return fan_out(_news(slate, Kind.RELEASED))


def after_signature(*, slate_id: int) -> int:
    """A candidate signed: "one to go" if it is now so, and today's "signed" news."""
    return announce_one_to_go(slate_id=slate_id) + announce_signatures(slate_id=slate_id)


def sweep(*, now=None, window=timedelta(days=3)) -> int:
    """The beat's run: each open slate's "signed" news (tomorrow's batch of the signatures
    that came after today's), and the rest of any fan-out a failed task left behind."""
    now = now or timezone.now()
    sent = 0
    for slate_id in (
        Slate.objects.filter(state=SlateState.OPEN).values_list("pk", flat=True).order_by("pk")
    ):
        sent += announce_signatures(slate_id=slate_id, now=now)
    recent = MilestoneNews.objects.filter(created_at__gte=now - window).select_related("slate")
    for news in recent:
        if news.kind == Kind.ONE_TO_GO:
            sent += announce_one_to_go(slate_id=news.slate_id)  # only while still so
        elif news.kind != Kind.SIGNED or news.slate.state == SlateState.OPEN:
            sent += fan_out(news)
    return sent
