"""What one pledge contributes to its slate's maintained totals (see slate/totals.py)."""

from dataclasses import dataclass
from datetime import datetime

from slate.totals import NO_PARTNER_KEY, UNKNOWN_STATE_KEY, Breakdown, BreakdownCounts, Counts

from .states import PledgeKind, PledgeState, is_live


@dataclass(frozen=True)
class PledgeFigures:
    """The fields of a pledge that its contribution depends on."""

    kind: str
    state: str
    amount_cents: int
    captured_cents: int
    refunded_cents: int
    hours: int
    supporter_state: str
    referred_by_id: int | None
    created_at: datetime
    partner_code_id: int | None = None

    @classmethod
    def of(cls, pledge) -> "PledgeFigures":
        return cls(
            kind=pledge.kind,
            state=pledge.state,
            amount_cents=pledge.amount_cents,
            captured_cents=pledge.captured_cents,
            refunded_cents=pledge.refunded_cents,
            hours=pledge.hours,
            supporter_state=pledge.supporter_state,
            referred_by_id=pledge.referred_by_id,
            created_at=pledge.created_at,
            partner_code_id=pledge.partner_code_id,
        )

    @property
    def live(self) -> bool:
        return is_live(self.kind, self.state)


def pledge_counts(figures: PledgeFigures | None) -> Counts:
    if figures is None:
        return Counts()
    live = figures.live
    money = figures.kind == PledgeKind.MONEY
    return Counts(
        money_pledged_cents=figures.amount_cents if money and live else 0,
        money_pledge_count=1 if money and live else 0,
        money_authorized_cents=(
            figures.amount_cents if money and figures.state == PledgeState.AUTHORIZED else 0
        ),
        money_captured_cents=figures.captured_cents - figures.refunded_cents,
        volunteer_hours=figures.hours if figures.kind == PledgeKind.VOLUNTEER and live else 0,
        volunteer_pledge_count=1 if figures.kind == PledgeKind.VOLUNTEER and live else 0,
        signon_count=1 if figures.kind == PledgeKind.SIGNON and live else 0,
    )


def pledge_breakdown(figures: PledgeFigures | None) -> Breakdown:
    if figures is None or not figures.live:
        return {}
    slice_counts = BreakdownCounts(
        money_cents=figures.amount_cents if figures.kind == PledgeKind.MONEY else 0,
        volunteer_hours=figures.hours if figures.kind == PledgeKind.VOLUNTEER else 0,
        pledge_count=1,
    )
    partner = str(figures.referred_by_id) if figures.referred_by_id else NO_PARTNER_KEY
    breakdown = {
        ("state", figures.supporter_state or UNKNOWN_STATE_KEY): slice_counts,
        ("partner", partner): slice_counts,
        ("day", figures.created_at.date().isoformat()): slice_counts,
    }
    if figures.partner_code_id:
        breakdown[("code", str(figures.partner_code_id))] = slice_counts
    return breakdown
