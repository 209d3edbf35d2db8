"""Which election a contribution counts toward, and that election's limit: read from the
tables staff edit (cycles, elections, limits), never written in code."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from candidates.models import Candidate

from .models import ContributionLimit, Election, ElectionCycle, ElectionKind

SHARED_RULES_KEY = "compliance:rulebook"


@dataclass(frozen=True)
class ElectionRef:
    """One election of one candidate: contributions to it share one limit."""

    cycle_id: int
    kind: str
    held_on: date | None
    code: str  # FEC election code, e.g. G2026


class RuleBook:
    """Every cycle, election and limit, read once (three small queries) for one computation.
    The tables hold a handful of rows that staff edit; a release asks them for every pledge
    it captures, so one snapshot per question instead of a query per candidate and rule."""

    def __init__(self, rows: tuple | None = None) -> None:
        cycles, elections, limits = rows if rows is not None else self.read()
        self.cycles = cycles
        self.elections: dict[int, list[Election]] = defaultdict(list)
        for row in elections:
            self.elections[row.cycle_id].append(row)
        self.limits = dict(limits)
        self._elections: dict[tuple[str, date], ElectionRef | None] = {}

    @staticmethod
    def read() -> tuple:
        return (
            list(ElectionCycle.objects.order_by("starts_on", "pk")),
            list(Election.objects.order_by("pk")),
            [
                ((row.cycle_id, row.office, row.election_kind, row.state), row.limit_cents)
                for row in ContributionLimit.objects.all()
            ],
        )

    @classmethod
    def shared(cls) -> "RuleBook":
        """The rules as kept in the default cache (Redis in production: every process shares
        one copy) for ``SLATE_COMPLIANCE_RULES_CACHE_SECONDS``: a pledge checks its limits
        without reading the three tables. Saving or deleting a row through the models (the
        admin) forgets the copy at once and again when its transaction commits
        (:func:`forget_shared_rules`); the lifetime bounds a change made any other way."""
        seconds = settings.SLATE_COMPLIANCE_RULES_CACHE_SECONDS
        if seconds <= 0:
            return cls()
        rows = cache.get(SHARED_RULES_KEY)
        if rows is None:
            rows = cls.read()
            cache.set(SHARED_RULES_KEY, rows, seconds)
        return cls(rows)

    def cycle_on(self, day: date) -> ElectionCycle | None:
        """The cycle containing ``day``; past the last cycle, the last one still applies (its
        limits stay in force until staff add the next cycle)."""
        containing = [c for c in self.cycles if c.starts_on <= day <= c.ends_on]
        if containing:
            return containing[0]
        started = [c for c in self.cycles if c.starts_on <= day]
        return started[-1] if started else None

    def election_on(
        self, candidate_state: str, day: date, cycle: ElectionCycle | None = None
    ) -> ElectionRef | None:
        """The next election of the candidate's state on or after ``day`` (a contribution
        after the last election counts toward the last). A state's own row of a kind replaces
        the all-states row of that kind. With no election rows at all, the cycle's general."""
        if cycle is None and (candidate_state, day) in self._elections:
            return self._elections[candidate_state, day]
        found = self._election_on(candidate_state, day, cycle or self.cycle_on(day))
        if cycle is None:
            self._elections[candidate_state, day] = found
        return found

    def _election_on(
        self, candidate_state: str, day: date, cycle: ElectionCycle | None
    ) -> ElectionRef | None:
        if cycle is None:
            return None
        rows: dict[str, Election] = {}
        for row in self.elections[cycle.pk]:
            if row.state not in (candidate_state, ""):
                continue
            if row.kind not in rows or row.state:
                rows[row.kind] = row
        if not rows:
            return ElectionRef(cycle.pk, ElectionKind.GENERAL, None, f"G{cycle.ends_on.year}")
        ordered = sorted(rows.values(), key=lambda e: e.held_on)
        chosen = next((e for e in ordered if e.held_on >= day), ordered[-1])
        return ElectionRef(cycle.pk, chosen.kind, chosen.held_on, chosen.fec_code)

    def limit_cents(self, candidate: Candidate, election: ElectionRef | None) -> int | None:
        """Per donor per candidate for this election; None where no rule applies (no row).
        A state's own row replaces the all-states row."""
        if election is None:
            return None
        key = (election.cycle_id, candidate.office, election.kind)
        own = self.limits.get((*key, candidate.state))
        return own if own is not None else self.limits.get((*key, ""))


def cycle_on(day: date) -> ElectionCycle | None:
    return RuleBook().cycle_on(day)


def election_on(
    candidate_state: str, day: date, cycle: ElectionCycle | None = None
) -> ElectionRef | None:
    return RuleBook().election_on(candidate_state, day, cycle)


def limit_cents(candidate: Candidate, election: ElectionRef | None) -> int | None:
    return RuleBook().limit_cents(candidate, election)


def forget_shared_rules(**kwargs) -> None:
    """A cycle, election or limit changed: the shared copy is dropped now, and again after the
    change commits (a pledge may have cached the old rows in between)."""
    cache.delete(SHARED_RULES_KEY)
    transaction.on_commit(lambda: cache.delete(SHARED_RULES_KEY))
