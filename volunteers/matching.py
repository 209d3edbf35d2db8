"""The matching rule: pure, deterministic, explainable. No database here.

1. **In person** (volunteers who chose in person or either, with a known ZIP). A campaign
   can take them if it runs in the volunteer's state, or its office (else its state's centre)
   is within ``IN_PERSON_RADIUS_MILES``. Among those: same state first, then the nearest in
   25-mile bands (so that two campaigns about as near share the volunteers), then the one with
   the fewest hours matched so far, then the lowest candidate id. Volunteers are taken in
   pledge order.
2. **Remote** (volunteers who chose remote; "either" volunteers no campaign can take in
   person). Largest pledges first, each to the campaign with the fewest hours matched so far
   (in person, earlier remote, and matches that already existed): the campaign that needs
   remote help most. Ties go to the lowest candidate id. This greedy rule keeps every
   campaign that received remote help within one pledge's hours of the least-helped campaign.
3. An in-person-only volunteer that no campaign can take in person stays unmatched, with the
   reason; they may pick a campaign themselves.

The same input, in any order, gives the same output.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from slate.geo import Place, distance_miles

IN_PERSON_RADIUS_MILES = 100
DISTANCE_BAND_MILES = 25

IN_PERSON, REMOTE, EITHER = "in_person", "remote", "either"


@dataclass(frozen=True)
class Offer:
    pledge_id: int
    hours: int
    mode: str
    place: Place | None
    zip_code: str = ""


@dataclass(frozen=True)
class Campaign:
    candidate_id: int
    name: str
    state: str
    place: Place
    office_zip: str = ""


@dataclass(frozen=True)
class Assignment:
    pledge_id: int
    candidate_id: int | None
    mode: str
    distance_miles: int | None
    reason: str


def reach(offer: Offer, campaign: Campaign) -> int | None:
    """Miles to a campaign that can take this volunteer in person, else None."""
    if offer.place is None:
        return None
    miles = distance_miles(offer.place, campaign.place)
    if campaign.state == offer.place.state or miles <= IN_PERSON_RADIUS_MILES:
        return miles
    return None


def can_take(offer: Offer, campaign: Campaign) -> bool:
    return offer.mode != IN_PERSON or reach(offer, campaign) is not None


def _where(campaign: Campaign) -> str:
    return f"its office ({campaign.office_zip})" if campaign.office_zip else campaign.state


def match_offers(
    offers: Iterable[Offer],
    campaigns: Iterable[Campaign],
    existing_hours: Mapping[int, int] | None = None,
) -> list[Assignment]:
    """Assign each offer; returns assignments in pledge-id order."""
    campaigns = sorted(campaigns, key=lambda c: c.candidate_id)
    offers = sorted(offers, key=lambda o: o.pledge_id)
    load = {c.candidate_id: 0 for c in campaigns}
    for candidate_id, hours in (existing_hours or {}).items():
        if candidate_id in load:
            load[candidate_id] += hours
    result: dict[int, Assignment] = {}
    if not campaigns:
        return [
            Assignment(o.pledge_id, None, o.mode, None, "No candidate has signed yet.")
            for o in offers
        ]

    remote_queue: list[Offer] = []
    for offer in offers:
        if offer.mode == REMOTE:
            remote_queue.append(offer)
            continue
        reachable = [(reach(offer, c), c) for c in campaigns]
        reachable = [(miles, c) for miles, c in reachable if miles is not None]
        if not reachable:
            if offer.mode == EITHER:
                remote_queue.append(offer)
            else:
                result[offer.pledge_id] = Assignment(
                    offer.pledge_id, None, IN_PERSON, None,
                    f"No signed campaign runs in your state or within {IN_PERSON_RADIUS_MILES} "
                    "miles of your ZIP code; choose a campaign to help remotely.",
                )  # fmt: skip
            continue
        miles, chosen = min(
            reachable,
            key=lambda mc: (
                mc[1].state != offer.place.state,
                mc[0] // DISTANCE_BAND_MILES,
                load[mc[1].candidate_id],
                mc[1].candidate_id,
            ),
        )
        same_state = chosen.state == offer.place.state
        reason = (
            f"In person: {chosen.name}'s campaign runs "
            f"{'in your state' if same_state else 'near you'}, {miles} miles from "
            f"{offer.zip_code or 'your ZIP code'} to {_where(chosen)}."
        )
        if len(reachable) > 1:
            reason += (
                f" Of the {len(reachable)} campaigns within reach it came first (your state "
                f"first, then distance in {DISTANCE_BAND_MILES}-mile steps, then the fewest "
                f"hours matched: it had {load[chosen.candidate_id]})."
            )
        load[chosen.candidate_id] += offer.hours
        result[offer.pledge_id] = Assignment(
            offer.pledge_id, chosen.candidate_id, IN_PERSON, miles, reason
        )

    for offer in sorted(remote_queue, key=lambda o: (-o.hours, o.pledge_id)):
        chosen = min(campaigns, key=lambda c: (load[c.candidate_id], c.candidate_id))
        why = "" if offer.mode == REMOTE else "No campaign is within reach in person, so remote. "
        result[offer.pledge_id] = Assignment(
            offer.pledge_id, chosen.candidate_id, REMOTE, None,
            f"{why}Remote: {chosen.name}'s campaign had the fewest volunteer hours matched "
            f"({load[chosen.candidate_id]}) of the {len(campaigns)} signed campaigns, so it "
            "needs remote help most.",
        )  # fmt: skip
        load[chosen.candidate_id] += offer.hours
    return [result[o.pledge_id] for o in offers]
