"""Benchmark: how long the matching rule takes for a large slate's volunteers.

The rule (``volunteers.matching.match_offers``) is pure, so this times it alone, without the
database: N volunteer offers across 40 ZIP codes in 20 states, a third of them remote, matched
to 8 signed campaigns. Prints figures only; nothing here asserts on timing.

    .venv/bin/python bench/volunteer_matching.py [--sizes 1000 10000 100000]

The default (the README's figures) takes a few seconds.
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slate import geo
from volunteers.matching import Campaign, Offer, match_offers

SIZES = (1_000, 10_000, 100_000)
CAMPAIGN_STATES = ("AZ", "GA", "MI", "ME", "WI", "TX", "MN", "PA")
ZIPS = (
    "94110", "90026", "10027", "11215", "78704", "77006", "19104", "15213", "48201", "49503",
    "53703", "53212", "85004", "85719", "30307", "31401", "55406", "55104", "04101", "27701",
    "43201", "44113", "98103", "80205", "02139", "33101", "60601", "63101", "70112", "97201",
    "84101", "89101", "87501", "73301", "37203", "40202", "46204", "50309", "68102", "20001",
)  # fmt: skip


def main() -> None:
    rng = random.Random(1)
    campaigns = [
        Campaign(i + 1, f"Candidate {i + 1}", state, geo.state_centre(state))
        for i, state in enumerate(CAMPAIGN_STATES)
    ]
    geo.zip_place("94110")  # load the table once, outside the timings
    print(f"{'volunteers':>10}  {'seconds':>8}  {'per 1,000':>9}  in person / remote / unmatched")
    for size in SIZES:
        offers = [
            Offer(
                i,
                rng.randint(1, 40),
                rng.choice(["in_person", "either", "remote"]),
                geo.zip_place(zip_code := rng.choice(ZIPS)),
                zip_code,
            )
            for i in range(size)
        ]
        started = time.perf_counter()
        result = match_offers(offers, campaigns)
        seconds = time.perf_counter() - started
        in_person = sum(1 for a in result if a.mode == "in_person" and a.candidate_id)
        unmatched = sum(1 for a in result if a.candidate_id is None)
        remote = size - in_person - unmatched
        print(
            f"{size:>10,}  {seconds:>8.2f}  {1000 * seconds / size:>9.3f}  "
            f"{in_person} / {remote} / {unmatched}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="offers")
    SIZES = tuple(parser.parse_args().sizes)
    main()
