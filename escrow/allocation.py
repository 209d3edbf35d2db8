"""Split a captured amount among candidates, in whole cents, deterministically."""

from collections.abc import Mapping, Sequence


def allocate(
    amount_cents: int, signed_candidate_ids: Sequence[int], weights: Mapping[int, int] | None
) -> dict[int, int]:
    """Split ``amount_cents`` among the signed candidates.

    With the supporter's ``weights`` (candidate id -> basis points), only weighted candidates
    who signed share, in proportion to their weights; if none of them signed, or no weights
    were given, the signed candidates share equally. Remainders of the integer division go,
    one cent each, to the largest fractional parts, ties to the lower candidate id, so the
    parts always add up to ``amount_cents`` exactly.
    """
    if amount_cents < 0:
        raise ValueError("amount must not be negative")
    signed = sorted(set(signed_candidate_ids))
    if not signed:
        raise ValueError("no signed candidate to allocate to")
    shares = {cid: w for cid, w in (weights or {}).items() if cid in signed and w > 0}
    if not shares:
        shares = dict.fromkeys(signed, 1)
    total_weight = sum(shares.values())
    parts: dict[int, int] = {}
    remainders: list[tuple[int, int]] = []
    for candidate_id in sorted(shares):
        whole, remainder = divmod(amount_cents * shares[candidate_id], total_weight)
        parts[candidate_id] = whole
        remainders.append((remainder, candidate_id))
    leftover = amount_cents - sum(parts.values())
    for _, candidate_id in sorted(remainders, key=lambda item: (-item[0], item[1]))[:leftover]:
        parts[candidate_id] += 1
    return {cid: cents for cid, cents in parts.items() if cents}
