"""Benchmark: concurrent pledge intake on PostgreSQL, with 1 and with 8 counter shards.

For each shard count and each thread count T, a fresh open slate takes a fixed number of
money pledges, each created and committed through the services (two transactions, as in
production where escrow commits the pledge once Stripe saves the card), spread over T threads
with their own connections. Prints pledges/second and whether the maintained totals equal a
recount afterwards (``totals_drift(...).clean``). Figures only; no assertions on timing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate \\
        .venv/bin/python bench/pledge_throughput.py [--pledges-per-run 150] [--rounds 2]

The default takes about a minute on two cores; the README's figures are
``--pledges-per-run 300 --rounds 3``.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup

SHARD_COUNTS = (1, 8)
THREAD_COUNTS = (1, 4, 8)
PLEDGES_PER_RUN = 150  # --pledges-per-run
ROUNDS = 2  # --rounds
PROBE_PLEDGES = 40
STATES = ["CA", "NY", "TX", "", "WA", "PA", "OH"]
# Pledges above $200 per candidate need contributor details.
BENCH_DONOR = {
    "first_name": "Bench", "last_name": "Donor", "street_1": "1 Main St", "city": "Springfield",
    "state": "IL", "zip_code": "62701", "employer": "Self-employed", "occupation": "Tester",
}  # fmt: skip


class LockWaitSampler(threading.Thread):
    """Polls pg_stat_activity on its own connection: how many of the benchmark's backends
    are waiting for a row or transaction lock at each sample."""

    QUERY = """
        SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
               count(*) FILTER (WHERE state = 'active')
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
    """

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.stopping = threading.Event()
        self.samples: list[tuple[int, int]] = []

    def run(self) -> None:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            while not self.stopping.is_set():
                self.samples.append(conn.execute(self.QUERY).fetchone())
                time.sleep(self.interval)

    def stop(self) -> float:
        """Stop; return the mean number of backends waiting on a lock per sample."""
        self.stopping.set()
        self.join()
        return statistics.fmean(waiting for waiting, _ in self.samples) if self.samples else 0.0


def run_once(slate, supporters, threads: int) -> tuple[float, float, list[str]]:
    """Pledge PLEDGES_PER_RUN times over ``threads`` threads.

    Returns (seconds, mean backends waiting on a lock, errors)."""
    from django.db import connection

    from pledges import intake as pledge_intake
    from pledges import services as pledge_services
    from pledges.declarations import ATTESTED

    per_thread = [list(range(t, PLEDGES_PER_RUN, threads)) for t in range(threads)]
    barrier = threading.Barrier(threads + 1)
    errors: list[str] = []

    def work(indexes: list[int]) -> None:
        try:
            connection.ensure_connection()  # connect before the clock starts
            barrier.wait()
            for index in indexes:
                try:
                    pledge = pledge_intake.create_money_pledge(
                        attestations=ATTESTED,
                        donor_details=BENCH_DONOR,
                        supporter=supporters[index],
                        slate=slate,
                        amount_cents=100 + (index * 7_919) % 250_000,
                        supporter_state=STATES[index % len(STATES)],
                    )
                    pledge_services.commit_money_pledge(pledge=pledge)
                except Exception as exc:  # a figure to report, not a crash of the benchmark
                    errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    sampler = LockWaitSampler()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(work, indexes) for indexes in per_thread]
        sampler.start()
        barrier.wait()
        start = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - start
    return elapsed, sampler.stop(), errors


def main() -> None:
    from django.test import override_settings

    from pledges.selectors import totals_drift
    from slate.models import SlateCounterShard
    from slate.selectors import slate_counts

    supporters = _setup.make_users(PLEDGES_PER_RUN, "supporter")
    print(
        f"{PLEDGES_PER_RUN} money pledges per run (create_money_pledge + commit_money_pledge), "
        f"one distinct supporter each, a fresh slate per run; best and median of {ROUNDS} rounds"
    )
    header = (
        f"{'shards':>6} {'threads':>7} {'best/s':>8} {'median/s':>9} {'vs 1 thread':>11} "
        f"{'lock waits':>10} {'errors':>6} {'counted':>11} {'drift clean':>17}"
    )
    print(header)
    print("-" * len(header))
    drift_reports = []
    for shards in SHARD_COUNTS:
        # The shard count is read when the slate is created and on every write, so both
        # happen under the same override.
        with override_settings(SLATE_COUNTER_SHARDS=shards):
            baseline = None
            for threads in THREAD_COUNTS:
                rates, waits, all_errors, counted, clean = [], [], [], [], []
                for _ in range(ROUNDS):
                    # The rule also needs money, so every commit schedules a threshold
                    # evaluation (inline here), as on a real slate with a money target; it
                    # never holds, because no candidate signs.
                    slate = _setup.make_open_slate(
                        candidates=3, min_signatures=3, min_money_cents=10**9
                    )
                    assert SlateCounterShard.objects.filter(slate=slate).count() == shards
                    elapsed, waiting, errors = run_once(slate, supporters, threads)
                    rates.append(PLEDGES_PER_RUN / elapsed)
                    waits.append(waiting)
                    all_errors.extend(errors)
                    counted.append(slate_counts(slate.pk).money_pledge_count)
                    drift = totals_drift(slate.pk)
                    clean.append(drift.clean)
                    if not drift.clean:
                        drift_reports.append((shards, threads, slate.pk, drift.differences))
                median = statistics.median(rates)
                baseline = baseline or median
                print(
                    f"{shards:>6} {threads:>7} {max(rates):>8.1f} {median:>9.1f} "
                    f"{median / baseline:>10.2f}x {statistics.median(waits):>10.2f} "
                    f"{len(all_errors):>6} "
                    f"{'/'.join(map(str, counted)):>11} {'/'.join(map(str, clean)):>17}"
                )
                for error in sorted(set(all_errors))[:5]:
                    print(f"        error: {error}")
    print(
        "lock waits = mean number of benchmark backends waiting on a row/transaction lock "
        "(pg_stat_activity sampled every 5 ms; median over rounds); counted = "
        "money_pledge_count per round as the dashboard reads it; drift clean per round"
    )
    for shards, threads, slate_id, differences in drift_reports:
        print(f"DRIFT shards={shards} threads={threads} slate={slate_id}:")
        for line in differences[:10]:
            print(f"    {line}")
    shard_count_change_probe(supporters[:PROBE_PLEDGES])


def shard_count_change_probe(supporters) -> None:
    """The shard count is read per write as well as at creation: what happens to a slate
    created under one SLATE_COUNTER_SHARDS when pledges arrive under another (a deploy that
    changes the setting, or two processes configured differently)?"""
    from django.test import override_settings

    from pledges import intake as pledge_intake
    from pledges import services as pledge_services
    from pledges.declarations import ATTESTED
    from pledges.selectors import totals_drift
    from slate.selectors import slate_counts

    print(f"shard count changed after creation ({len(supporters)} pledges, one thread):")
    for created_with, written_with in ((8, 1), (1, 8)):
        with override_settings(SLATE_COUNTER_SHARDS=created_with):
            slate = _setup.make_open_slate(candidates=3, min_signatures=3)
        with override_settings(SLATE_COUNTER_SHARDS=written_with):
            for index, supporter in enumerate(supporters):
                pledge = pledge_intake.create_money_pledge(
                    attestations=ATTESTED,
                    donor_details=BENCH_DONOR,
                    supporter=supporter,
                    slate=slate,
                    amount_cents=1_000 + index,
                )
                pledge_services.commit_money_pledge(pledge=pledge)
        drift = totals_drift(slate.pk)
        print(
            f"    created with {created_with}, written with {written_with}: "
            f"counted {slate_counts(slate.pk).money_pledge_count} of {len(supporters)}, "
            f"drift clean {drift.clean}"
        )
        for line in drift.differences[:3]:
            print(f"        {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pledges-per-run", type=int, default=PLEDGES_PER_RUN)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    arguments = parser.parse_args()
    PLEDGES_PER_RUN, ROUNDS = arguments.pledges_per_run, arguments.rounds
    with _setup.bench_database(_setup.scratch_name("slate_bench_pledge_throughput")):
        main()
