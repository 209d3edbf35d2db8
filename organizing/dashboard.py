"""What an organizer's dashboard shows, read from maintained totals only.

Every figure comes from the slate row, its counter and breakdown shards (rows bounded by
shards x distinct keys), its invitations, and the pledges in ``needs_action`` through the
(slate, state) index. Nothing here scans a slate's pledges, so the read costs the same at a
million pledges as at a hundred (tests/slate/test_organizer_dashboard.py counts the queries).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from candidates.asks import AskCounts, ask_counts
from candidates.news import LastEmail, last_emails
from candidates.selectors import CandidateStanding, RuleReach, rule_reach, slate_candidate_standings
from pledges.selectors import NeedsAction, needs_action
from slate import selectors as slate_selectors
from slate.models import Slate
from slate.selectors import GrowthDay, PartnerSlice, SlateProgress
from slate.totals import BreakdownCounts
from volunteers.hours import VolunteerHours, hours_for_slate

STATES_SHOWN = 15


@dataclass(frozen=True)
class PressureRow:
    """What presses on one unsigned candidate."""

    standing: CandidateStanding
    from_state: BreakdownCounts  # pledges from supporters in the candidate's state
    asks: AskCounts
    days_invited: int
    last_email: LastEmail | None  # our last digest or "one away" email to them


@dataclass(frozen=True)
class OrganizerDashboard:
    progress: SlateProgress
    standings: list[CandidateStanding]
    states: list[tuple[str, BreakdownCounts]]
    partners: list[PartnerSlice]
    growth: list[GrowthDay]
    needs_action: NeedsAction
    volunteer_hours: VolunteerHours  # pledged (maintained totals), scheduled and delivered
    asks: dict[int, AskCounts]  # candidate id -> supporters' asks to sign (one grouped query)
    reach: RuleReach  # can the signature rule still hold, given the declines
    pressure: list[PressureRow]  # per unsigned candidate, most asked first
    # Whether the mail provider reports opens of the candidates' emails (else no such column).
    tracks_opens: bool = False

    @property
    def missing(self) -> list[CandidateStanding]:
        return [standing for standing in self.standings if not standing.signed]

    @property
    def missing_with_asks(self) -> list[tuple[CandidateStanding, AskCounts]]:
        return [(s, self.asks.get(s.candidate.pk, AskCounts())) for s in self.missing]

    @property
    def signed(self) -> list[CandidateStanding]:
        return [standing for standing in self.standings if standing.signed]

    @property
    def hours_left(self) -> int:
        return int(self.progress.time_left.total_seconds() // 3600) % 24

    def chart_data(self) -> dict:
        return slate_selectors.growth_chart_data(self.growth)


def _pressure(standings, by_state, asks, emails, now) -> list[PressureRow]:
    rows = [
        PressureRow(
            standing=s,
            from_state=by_state.get(s.candidate.state, BreakdownCounts()),
            asks=asks.get(s.candidate.pk, AskCounts()),
            days_invited=(now - s.invitation.created_at).days,
            last_email=emails.get(s.candidate.pk),
        )
        for s in standings
        if not s.signed
    ]
    return sorted(rows, key=lambda row: (-row.asks.total, row.standing.candidate.full_name))


def organizer_dashboard(slate: Slate) -> OrganizerDashboard:
    # Each read once, then handed to what needs it again: the standings (agreement version,
    # signatures, invitations) to the rule's reach, the counters to the volunteer hours.
    standings = slate_candidate_standings(slate)
    states = slate_selectors.slate_breakdown(slate.pk, "state")
    asks = ask_counts(slate)
    progress = slate_selectors.slate_progress(slate)
    return OrganizerDashboard(
        progress=progress,
        standings=standings,
        states=states[:STATES_SHOWN],
        partners=slate_selectors.partner_breakdown(slate.pk),
        growth=slate_selectors.daily_growth(slate.pk),
        needs_action=needs_action(slate.pk),
        volunteer_hours=hours_for_slate(slate, progress.counts),
        asks=asks,
        reach=rule_reach(slate, standings),
        pressure=_pressure(standings, dict(states), asks, last_emails(slate), timezone.now()),
        tracks_opens=settings.SLATE_EMAIL_TRACK_OPENS,
    )
