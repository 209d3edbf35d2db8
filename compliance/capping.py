"""The arithmetic of capping a capture at the contribution limits: pure, no database."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from escrow.allocation import allocate


@dataclass(frozen=True)
class CappedAllocation:
    """What may be captured from one pledge, per candidate, after the limits.

    ``capturable``: candidate id -> cents to capture and credit to that candidate (only
    positive amounts; its sum is ``total_cents``). ``capped``: candidate id -> cents taken
    off that candidate's planned share because it would exceed the limit. ``reallocated``:
    candidate id -> cents of that excess moved to that candidate (the donor allowed it).
    ``uncaptured_cents``: planned money that is not captured at all. ``reasons``: one
    sentence per cap, for the pledge's history and the supporter.
    """

    capturable: dict[int, int]
    capped: dict[int, int] = field(default_factory=dict)
    reallocated: dict[int, int] = field(default_factory=dict)
    uncaptured_cents: int = 0
    reasons: tuple[str, ...] = ()

    @property
    def total_cents(self) -> int:
        return sum(self.capturable.values())

    @property
    def is_capped(self) -> bool:
        return bool(self.capped)


def cap_allocation(
    planned: Mapping[int, int],
    headroom: Mapping[int, int | None],
    *,
    recipients: Iterable[int] = (),
    allow_reallocation: bool = False,
    names: Mapping[int, str] | None = None,
) -> CappedAllocation:
    """Cap each planned share at the candidate's ``headroom`` (cents the donor may still
    give them for this election; None means no limit applies). With ``allow_reallocation``,
    the excess goes to the ``recipients`` (the other signed candidates) that still have
    headroom, split equally and filled up in rounds; whatever fits nowhere stays uncaptured.
    """
    names = names or {}
    room = {cid: headroom.get(cid) for cid in set(planned) | set(recipients)}
    for cid, value in room.items():
        if value is not None and value < 0:
            room[cid] = 0
    capturable: dict[int, int] = {}
    capped: dict[int, int] = {}
    reasons: list[str] = []
    for cid in sorted(planned):
        cents = planned[cid]
        if cents < 0:
            raise ValueError("planned amounts must not be negative")
        limit_room = room[cid]
        keep = cents if limit_room is None else min(cents, limit_room)
        if keep:
            capturable[cid] = keep
        if limit_room is not None:
            room[cid] = limit_room - keep
        if keep < cents:
            capped[cid] = cents - keep
            name = names.get(cid, f"candidate {cid}")
            reasons.append(
                f"${(cents - keep) / 100:,.2f} of the share for {name} "
                "would exceed the contribution limit"
            )
    excess = sum(capped.values())
    reallocated: dict[int, int] = {}
    if excess and allow_reallocation:
        takers = sorted(set(recipients) - set(capped))
        while excess:
            open_takers = [cid for cid in takers if room[cid] is None or room[cid] > 0]
            if not open_takers:
                break
            given_this_round = 0
            for cid, share in allocate(excess, open_takers, None).items():
                give = share if room[cid] is None else min(share, room[cid])
                if not give:
                    continue
                capturable[cid] = capturable.get(cid, 0) + give
                reallocated[cid] = reallocated.get(cid, 0) + give
                if room[cid] is not None:
                    room[cid] -= give
                given_this_round += give
            excess -= given_this_round
            if not given_this_round:
                break
        if reallocated:
            reasons.append(
                f"${sum(reallocated.values()) / 100:,.2f} over the limit went to the other "
                "signed candidates, as the donor allowed"
            )
    if excess:
        reasons.append(f"${excess / 100:,.2f} over the limit is not charged")
    return CappedAllocation(
        capturable=capturable, capped=capped, reallocated=reallocated,
        uncaptured_cents=excess, reasons=tuple(reasons),
    )  # fmt: skip
