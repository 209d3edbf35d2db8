"""A record after the lock: the slate's organizers record how its signers voted on a plank
(``record_vote``), the slate page shows the record, a signer's page where they kept or broke
the bloc, and the slate's supporters get one email per record (the task named below, in the
supporter outbox of ``pledges.notifications``).

Only organizers, only once the slate has locked (a bloc exists only then), and a vote on or
after the day of the lock; every signer of the locked agreement gets a row, so nobody's vote
is left out of the record.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from slate import selectors as slate_selectors
from slate.models import Slate
from slate.queue import enqueue_named_on_commit
from slate.selectors import PUBLIC_STATES
from slate.states import SlateState
from slate.text import clean_text

from . import selectors
from .models import Candidate, SignerVote, VoteRecord
from .services import CandidateError

MAX_DESCRIPTION_CHARS = 300
MAX_SOURCE_URL_CHARS = 500
# The bloc exists from the lock on: a vote is recorded only for a slate in one of these.
RECORDABLE_STATES = (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED)
ANNOUNCE_TASK = "pledges.tasks.announce_vote_record"


def recordable_refusal(slate: Slate) -> str:
    """Why no vote can be recorded on this slate now ('' when one can)."""
    if slate.state not in RECORDABLE_STATES or slate.locked_at is None:
        return "Votes are recorded only after the slate has locked."
    return ""


def signers(slate: Slate) -> list[Candidate]:
    """The candidates whose signatures the record holds to the bloc, by name."""
    ids = selectors.valid_signatures(slate).values_list("candidate_id", flat=True)
    return list(Candidate.objects.filter(pk__in=ids).order_by("full_name", "id"))


def _clean_source(value: object) -> str:
    source = clean_text(
        value, field="source_url", error=CandidateError, max_length=MAX_SOURCE_URL_CHARS,
        required=True, required_message="Link to where the vote is published.",
    )  # fmt: skip
    try:
        URLValidator(schemes=["http", "https"])(source)
    except ValidationError:
        raise CandidateError(
            "invalid_source", "Enter a web address starting with https://.", field="source_url"
        ) from None
    return source


@transaction.atomic
def record_vote(
    *,
    slate: Slate,
    actor,
    plank_position: object,
    description: object,
    voted_on: object,
    bloc_vote: object,
    source_url: object,
    votes: Mapping[int, str],
    announce: bool = True,
) -> VoteRecord:
    """Record one vote with every signer's vote in it; refused whole or written whole.
    ``announce=False`` (the demo seed) emails no supporter."""
    slate = Slate.objects.select_for_update().get(pk=slate.pk)
    if not slate_selectors.is_organizer(actor, slate):
        raise CandidateError("forbidden", "Only this slate's organizers may record votes.")
    refusal = recordable_refusal(slate)
    if refusal:
        raise CandidateError("not_locked", refusal)
    version = selectors.current_agreement_version(slate)
    planks = dict(version.numbered_planks()) if version else {}
    try:
        position = int(plank_position)
    except (TypeError, ValueError):
        position = None
    if position not in planks:
        raise CandidateError("unknown_plank", "Choose one of the slate's planks.", field="plank")
    description = clean_text(
        description, field="description", error=CandidateError,
        max_length=MAX_DESCRIPTION_CHARS, required=True,
        required_message="Say what was voted on (a bill, an amendment, a motion).",
    )  # fmt: skip
    if not isinstance(voted_on, date):
        raise CandidateError("invalid_date", "Enter the date of the vote.", field="voted_on")
    if voted_on > timezone.localdate():
        raise CandidateError("future_vote", "That date is in the future.", field="voted_on")
    if voted_on < timezone.localdate(slate.locked_at):
        raise CandidateError(
            "before_lock",
            f"The bloc began when the slate locked on {slate.locked_at:%B %-d, %Y}; "
            "record votes from that day on.",
            field="voted_on",
        )
    if bloc_vote not in VoteRecord.BlocVote.values:
        raise CandidateError("invalid_bloc_vote", "Choose yes or no.", field="bloc_vote")
    source_url = _clean_source(source_url)
    held = signers(slate)
    if set(votes) - {c.pk for c in held}:
        raise CandidateError("not_a_signer", "Record votes of this slate's signers only.")
    for candidate in held:
        if votes.get(candidate.pk) not in SignerVote.Vote.values:
            raise CandidateError(
                "missing_vote", f"Choose how {candidate.full_name} voted.", field="votes"
            )
    record = VoteRecord.objects.create(
        slate=slate,
        plank_position=position,
        plank_title=planks[position]["title"],
        description=description,
        voted_on=voted_on,
        bloc_vote=bloc_vote,
        source_url=source_url,
        recorded_by=actor,
    )
    SignerVote.objects.bulk_create(
        [SignerVote(record=record, candidate=c, vote=votes[c.pk]) for c in held]
    )
    # The supporters' email: one each, through their outbox (pledges is above us).
    if announce:
        enqueue_named_on_commit(ANNOUNCE_TASK, record.pk)
    return record


# --- Reads ------------------------------------------------------------------------------------


def _with_votes(records: QuerySet[VoteRecord]) -> QuerySet[VoteRecord]:
    return records.prefetch_related(
        Prefetch("votes", queryset=SignerVote.objects.select_related("candidate"))
    )


def slate_records(slate: Slate) -> list[VoteRecord]:
    """The slate's vote records, newest vote first, each with its signers' votes."""
    return list(_with_votes(VoteRecord.objects.filter(slate=slate)))


@dataclass(frozen=True)
class BlocTally:
    kept: int
    broke: int
    missed: int

    @property
    def counted(self) -> int:
        return self.kept + self.broke + self.missed


def tally(votes: list[SignerVote]) -> BlocTally:
    outcomes = [v.outcome for v in votes]
    return BlocTally(outcomes.count("kept"), outcomes.count("broke"), outcomes.count("missed"))


def candidate_votes(candidate: Candidate, slates: list[Slate]) -> dict[int, list[SignerVote]]:
    """slate id -> this candidate's recorded votes there (newest first), for public slates."""
    found: dict[int, list[SignerVote]] = defaultdict(list)
    rows = (
        SignerVote.objects.filter(
            candidate=candidate,
            record__slate__in=[s for s in slates if s.state in PUBLIC_STATES],
        )
        .select_related("record")
        .order_by("-record__voted_on", "-record_id")
    )
    for row in rows:
        found[row.record.slate_id].append(row)
    return dict(found)
