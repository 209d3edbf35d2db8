"""Which election a contribution counts toward, and that election's limit: read from the
tables staff edit (cycles, elections, limits), never written in code."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from candidates.models import Candidate

from .models import ContributionLimit, Election, ElectionCycle, ElectionKind


@dataclass(frozen=True)
class ElectionRef:
    """One election of one candidate: contributions to it share one limit."""

    cycle_id: int
    kind: str
    held_on: date | None
    code: str  # FEC election code, e.g. G2026


def cycle_on(day: date) -> ElectionCycle | None:
    """The cycle containing ``day``; past the last cycle, the last one still applies (its
    limits stay in force until staff add the next cycle)."""
    cycle = ElectionCycle.objects.filter(starts_on__lte=day, ends_on__gte=day).first()
    if cycle is None:
        cycle = ElectionCycle.objects.filter(starts_on__lte=day).order_by("-starts_on").first()
    return cycle


def election_on(
    candidate_state: str, day: date, cycle: ElectionCycle | None = None
) -> ElectionRef | None:
    """The next election of the candidate's state on or after ``day`` (a contribution after
    the last election counts toward the last). A state's own row of a kind replaces the
    all-states row of that kind. With no election rows at all, the cycle's general."""
    cycle = cycle or cycle_on(day)
    if cycle is None:
        return None
    rows: dict[str, Election] = {}
    for row in Election.objects.filter(cycle=cycle).filter(Q(state=candidate_state) | Q(state="")):
        if row.kind not in rows or row.state:
            rows[row.kind] = row
    if not rows:
        return ElectionRef(cycle.pk, ElectionKind.GENERAL, None, f"G{cycle.ends_on.year}")
    ordered = sorted(rows.values(), key=lambda e: e.held_on)
    chosen = next((e for e in ordered if e.held_on >= day), ordered[-1])
    return ElectionRef(cycle.pk, chosen.kind, chosen.held_on, chosen.fec_code)


def limit_cents(candidate: Candidate, election: ElectionRef | None) -> int | None:
    """Per donor per candidate for this election; None where no rule applies (no row)."""
    if election is None:
        return None
    rows = {
        row.state: row.limit_cents
        for row in ContributionLimit.objects.filter(
            cycle_id=election.cycle_id,
            office=candidate.office,
            election_kind=election.kind,
            state__in=[candidate.state, ""],
        )
    }
    if candidate.state in rows:
        return rows[candidate.state]
    return rows.get("")
