"""Benchmark: does the organizer's dashboard cost the same at any number of pledges?

Grows one open slate to N committed money pledges (bulk-inserted, 1 in 1,000 set straight to
``needs_action``, then made consistent through ``pledges.services.repair_totals``, as in
totals_read.py: a benchmark's shortcut, never the app's), and times
``organizing.dashboard.organizer_dashboard`` (what the page and its live fragment read)
against a full ``recount_slate`` scan. Prints figures only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate \
        .venv/bin/python bench/organizer_dashboard.py [--sizes 100 10000]

The default (100 and 10,000 pledges) takes under a minute; the README's figures are
``--sizes 100 10000 100000``.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup
from totals_read import SUPPORTERS, grow_to

SIZES = (100, 10_000)  # --sizes
READ_RUNS = 100
READ_WARMUP = 10
NEEDS_ACTION_EVERY = 1_000


def main() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizing.dashboard import organizer_dashboard
    from pledges.models import Pledge
    from pledges.selectors import recount_slate
    from pledges.services import repair_totals
    from slate.models import Slate

    slate = _setup.make_open_slate(candidates=5, min_signatures=3)
    supporters = _setup.make_users(SUPPORTERS, "supporter")
    print(
        f"dashboard read = organizer_dashboard(slate): median/p95 of {READ_RUNS} runs after "
        f"{READ_WARMUP} warm-up; recount = recount_slate(pk), one run"
    )
    header = (
        f"{'N':>8} {'read med ms':>12} {'read p95 ms':>12} {'queries/read':>13} "
        f"{'pledge rows read':>17} {'recount ms':>11} {'needs_action':>13}"
    )
    print(header)
    print("-" * len(header))
    current = 0
    for size in SIZES:
        grow_to(slate, supporters, current, size)
        current = size
        # Some pledges wait for their supporter: the dashboard lists them (index on state).
        ids = list(
            Pledge.objects.filter(slate=slate, state="committed")
            .order_by("id")
            .values_list("id", flat=True)[::NEEDS_ACTION_EVERY]
        )
        Pledge.objects.filter(pk__in=ids).update(state="needs_action")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        repair_totals(slate_id=slate.pk)
        slate = Slate.objects.get(pk=slate.pk)

        for _ in range(READ_WARMUP):
            organizer_dashboard(slate)
        timings = []
        for _ in range(READ_RUNS):
            start = time.perf_counter()
            organizer_dashboard(slate)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        with CaptureQueriesContext(connection) as captured:
            board = organizer_dashboard(slate)
        # Rows the pledge queries can touch: only those in needs_action (the (slate, state)
        # index), shown capped at NEEDS_ACTION_SHOWN and counted.
        pledge_rows = len(board.needs_action.pledges)
        start = time.perf_counter()
        recount_slate(slate.pk)
        recount_ms = (time.perf_counter() - start) * 1000
        print(
            f"{size:>8} {statistics.median(timings):>12.2f} "
            f"{_setup.percentile(timings, 0.95):>12.2f} {len(captured.captured_queries):>13} "
            f"{pledge_rows:>17} {recount_ms:>11.0f} {board.needs_action.count:>13}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="pledges")
    SIZES = tuple(parser.parse_args().sizes)
    with _setup.bench_database(_setup.scratch_name("slate_bench_organizer_dashboard")):
        main()
