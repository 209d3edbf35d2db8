"""The arithmetic of a slate's maintained totals, with no database in it.

Every pledge contributes a fixed amount to a slate's counters as a pure function of its own
fields (kind, state, amount, hours, geography, referral, day). A change of a pledge applies
``contribution(after) - contribution(before)``; a recount sums contributions over all pledges.
The two agree by construction, which is what the drift check and the property tests verify.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# "code": a partner organization's sub-code (chapter, mailing, event), keyed by its id; only
# pledges that came through one are counted there.
BREAKDOWN_DIMENSIONS = ("state", "partner", "code", "day")
NO_PARTNER_KEY = "direct"
UNKNOWN_STATE_KEY = "unknown"


@dataclass(frozen=True)
class Counts:
    """Slate-wide counters; all integers, money in cents."""

    money_pledged_cents: int = 0
    money_pledge_count: int = 0
    money_authorized_cents: int = 0
    money_captured_cents: int = 0
    volunteer_hours: int = 0
    volunteer_pledge_count: int = 0
    signon_count: int = 0
    supporter_count: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f: getattr(self, f) + getattr(other, f) for f in COUNTER_FIELDS})

    def __sub__(self, other: Counts) -> Counts:
        return Counts(**{f: getattr(self, f) - getattr(other, f) for f in COUNTER_FIELDS})

    def is_zero(self) -> bool:
        return all(getattr(self, f) == 0 for f in COUNTER_FIELDS)

    def nonzero_items(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in COUNTER_FIELDS if getattr(self, f)}


COUNTER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counts))


@dataclass(frozen=True)
class BreakdownCounts:
    """Counters for one slice of a slate (one state, one partner org, one day)."""

    money_cents: int = 0
    volunteer_hours: int = 0
    pledge_count: int = 0

    def __add__(self, other: BreakdownCounts) -> BreakdownCounts:
        return BreakdownCounts(
            **{f: getattr(self, f) + getattr(other, f) for f in BREAKDOWN_FIELDS}
        )

    def __neg__(self) -> BreakdownCounts:
        return BreakdownCounts(**{f: -getattr(self, f) for f in BREAKDOWN_FIELDS})

    def is_zero(self) -> bool:
        return all(getattr(self, f) == 0 for f in BREAKDOWN_FIELDS)


BREAKDOWN_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(BreakdownCounts))

BreakdownKey = tuple[str, str]
Breakdown = dict[BreakdownKey, BreakdownCounts]


def breakdown_difference(after: Breakdown, before: Breakdown) -> Breakdown:
    """``after - before`` per slice, dropping slices that did not change."""
    result: Breakdown = {}
    for key in after.keys() | before.keys():
        delta = after.get(key, BreakdownCounts()) + -before.get(key, BreakdownCounts())
        if not delta.is_zero():
            result[key] = delta
    return result


def breakdown_sum(parts: list[Breakdown]) -> Breakdown:
    result: Breakdown = {}
    for part in parts:
        for key, value in part.items():
            result[key] = result.get(key, BreakdownCounts()) + value
    return {key: value for key, value in result.items() if not value.is_zero()}
