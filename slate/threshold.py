"""The threshold rule, evaluated on plain facts so it can be tested and explained alone."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThresholdFacts:
    signed_candidates: int
    required_unsigned: int
    money_pledged_cents: int
    volunteer_hours: int


@dataclass(frozen=True)
class ThresholdRule:
    min_signatures: int
    min_money_cents: int = 0
    min_volunteer_hours: int = 0


@dataclass(frozen=True)
class ThresholdVerdict:
    holds: bool
    unmet: tuple[str, ...] = field(default_factory=tuple)
    signatures_needed: int = 0


def evaluate_rule(rule: ThresholdRule, facts: ThresholdFacts) -> ThresholdVerdict:
    unmet: list[str] = []
    signatures_needed = max(0, rule.min_signatures - facts.signed_candidates)
    if signatures_needed:
        unmet.append(f"{signatures_needed} more candidate signature(s) needed")
    if facts.required_unsigned:
        unmet.append(f"{facts.required_unsigned} required candidate(s) have not signed")
    if facts.money_pledged_cents < rule.min_money_cents:
        short = rule.min_money_cents - facts.money_pledged_cents
        unmet.append(f"${short / 100:,.2f} more pledged money needed")
    if facts.volunteer_hours < rule.min_volunteer_hours:
        unmet.append(f"{rule.min_volunteer_hours - facts.volunteer_hours} more volunteer hours")
    return ThresholdVerdict(
        holds=not unmet, unmet=tuple(unmet), signatures_needed=signatures_needed
    )
