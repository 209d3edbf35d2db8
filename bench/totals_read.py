"""Benchmark: is a slate's dashboard read O(1) in its number of pledges?

Grows one open slate to N committed money pledges (bulk-inserted, then made consistent with
the sanctioned recount path, ``pledges.services.repair_totals``), and times what a dashboard
reads (``slate_progress`` plus the by-state breakdown) against a full ``recount_slate`` scan.
Prints figures only; nothing here asserts on timing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate .venv/bin/python bench/totals_read.py \\
        [--sizes 100 10000]

The default (100 and 10,000 pledges) takes about half a minute; the README's figures are
``--sizes 100 10000 200000`` (a few minutes, most of it growing and recounting 200,000).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup

SIZES = (100, 10_000)  # --sizes
READ_RUNS = 200
READ_WARMUP = 20
RECOUNT_RUNS = 5
SUPPORTERS = 300
BATCH = 5_000
STATES = ["CA", "NY", "TX", "PA", "OH", "MI", "WI", "AZ", "GA", "NC", "WA", "MN", ""]


def grow_to(slate, supporters, current: int, target: int) -> None:
    from django.utils import timezone

    from pledges.models import Pledge
    from pledges.states import PledgeKind, PledgeState

    now = timezone.now()
    index = current
    while index < target:
        batch = []
        for i in range(index, min(target, index + BATCH)):
            created = now - timedelta(minutes=(i * 37) % (30 * 24 * 60))
            batch.append(
                Pledge(
                    supporter=supporters[i % len(supporters)],
                    slate=slate,
                    kind=PledgeKind.MONEY,
                    state=PledgeState.COMMITTED,
                    amount_cents=100 + (i * 7_919) % 250_000,
                    supporter_state=STATES[i % len(STATES)],
                    created_at=created,
                    state_changed_at=created,
                )
            )
        Pledge.objects.bulk_create(batch, batch_size=BATCH)
        index += len(batch)


def dashboard_read(slate):
    from slate.selectors import slate_breakdown, slate_progress

    return slate_progress(slate), slate_breakdown(slate.pk, "state")


def main() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pledges.selectors import recount_slate
    from pledges.services import repair_totals
    from slate.models import Slate, SlateBreakdownShard, SlateCounterShard

    slate = _setup.make_open_slate(candidates=3, min_signatures=3)
    supporters = _setup.make_users(SUPPORTERS, "supporter")

    print(
        f"dashboard read = slate_progress(slate) + slate_breakdown(pk, 'state'); "
        f"median/p95 of {READ_RUNS} runs after {READ_WARMUP} warm-up; "
        f"recount = recount_slate(pk), median of {RECOUNT_RUNS}"
    )
    header = (
        f"{'N':>8} {'read med ms':>12} {'read p95 ms':>12} {'queries/read':>13} "
        f"{'shard rows':>11} {'recount med ms':>15} {'recount/read':>13} {'pledges seen':>13}"
    )
    print(header)
    print("-" * len(header))
    current = 0
    for size in SIZES:
        grow_to(slate, supporters, current, size)
        current = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        repair_totals(slate_id=slate.pk)
        slate = Slate.objects.get(pk=slate.pk)

        for _ in range(READ_WARMUP):
            dashboard_read(slate)
        timings = []
        for _ in range(READ_RUNS):
            start = time.perf_counter()
            dashboard_read(slate)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        with CaptureQueriesContext(connection) as captured:
            progress, _breakdown = dashboard_read(slate)
        shard_rows = (
            SlateCounterShard.objects.filter(slate=slate).count()
            + SlateBreakdownShard.objects.filter(slate=slate, dimension="state").count()
        )

        recounts = []
        for _ in range(RECOUNT_RUNS):
            start = time.perf_counter()
            recount_slate(slate.pk)
            recounts.append((time.perf_counter() - start) * 1000)
        read_median = statistics.median(timings)
        recount_median = statistics.median(recounts)
        print(
            f"{size:>8} {read_median:>12.3f} {_setup.percentile(timings, 0.95):>12.3f} "
            f"{len(captured.captured_queries):>13} {shard_rows:>11} {recount_median:>15.1f} "
            f"{recount_median / read_median:>12.0f}x {progress.counts.money_pledge_count:>13}"
        )
    print(
        "shard rows = counter shards + 'state' breakdown rows the read aggregates "
        "(bounded by shards x distinct keys, not by N); pledges seen = money_pledge_count "
        "as the dashboard reports it"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="pledges")
    SIZES = tuple(parser.parse_args().sizes)
    with _setup.bench_database(_setup.scratch_name("slate_bench_totals_read")):
        main()
