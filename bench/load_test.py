"""Load test: gunicorn serving Slate on PostgreSQL and Redis, real Celery workers and localstripe,
driven by Locust (headless) through the pages a supporter uses and through the API, beside a
bare view that inserts the same Pledge row. Prints pledges/s, latency, errors, database queries
per pledge and the ratio to the bare view; then checks that every pledge Locust saw succeed is
committed exactly once, no other pledge was committed, and the maintained totals equal a
recount. Then the public pages' reads per second with and without their cache.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/load_test.py [--users 16] [--duration 5]

The default (16 users, 5 s a phase) takes about a minute and a half. The README's table is
``--users 4,16,64 --duration 5``; the quiet-machine figures of issue 19 ``--users 16
--duration 20``.

The PostgreSQL database is a scratch one beside DATABASE_URL's (``<name>_bench_load``, dropped
afterwards); the Redis database of BENCH_REDIS_URL is emptied (it carries the run's Celery
queue, the caches and the query counters). Phases: for each path (web, api, bare) and each
number of users, ``--duration`` seconds of closed-loop load (no think time: each user starts
its next pledge as soon as the last one ends), in-flight journeys allowed to finish; then the
queue is drained before the figures are read. Figures only, no timing assertions: the run
fails (exit 1) only when a pledge was lost or doubled or the totals drifted.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup

REPO_ROOT = _setup.REPO_ROOT
BIN = Path(sys.executable).parent
LOCUSTFILE = REPO_ROOT / "bench" / "load" / "locustfile.py"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
PUBLISHABLE_KEY = "pk_test_bench"
SECRET_KEY = "sk_test_bench"  # noqa: S105 - localstripe takes any key
PATHS = {"web": "WebSupporter", "api": "ApiSupporter", "bare": "BareInserter"}
# The requests of a pledge that run the intake services (create, then commit on card saved).
INTAKE_VIEWS = {
    "web": ("pledges:money", "escrow:card-confirm"),
    "api": ("api:v1:pledges", "escrow:card-confirm"),
    "bare": ("bench-bare-pledge",),
}
READ_VIEWS = ("slate:detail", "slate:widget", "slate:progress")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="16", help="concurrent users, comma-separated")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per phase")
    parser.add_argument("--paths", default="web,api,bare", help="pledge paths to run")
    parser.add_argument("--read-users", type=int, default=16, help="users for the reads")
    parser.add_argument("--no-reads", action="store_true", help="skip the public-page reads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument(
        "--queries", action="store_true", help="print each view's and task's queries per call"
    )
    args = parser.parse_args()
    args.user_counts = [int(n) for n in args.users.split(",") if n.strip()]
    args.path_names = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = set(args.path_names) - set(PATHS)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our server
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within {seconds:.0f}s")
        time.sleep(0.2)


class Services:
    """localstripe, a Celery worker and gunicorn, in their own process groups, logs in tmp."""

    def __init__(self, args, tmp: Path, redis_url: str) -> None:
        self.args, self.tmp, self.redis_url = args, tmp, redis_url
        self.processes: dict[str, subprocess.Popen] = {}
        self.stripe_url = f"http://127.0.0.1:{free_port()}"
        self.web_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE"):
            env.pop(name, None)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.load.settings",
            PYTHONPATH=str(REPO_ROOT),
            SLATE_ENV="development",
            DEBUG="0",
            LOG_LEVEL="WARNING",
            CELERY_BROKER_URL=self.redis_url,
            BENCH_REDIS_URL=self.redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            STRIPE_API_BASE=self.stripe_url,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
            STRIPE_WEBHOOK_SECRET="whsec_bench",  # noqa: S106 - localstripe's, not a secret
            # Every simulated user comes from 127.0.0.1: the per-IP write limit would stop
            # the run after two minutes' worth of writes.
            SLATE_API_WRITE_RATE_USER="100000/min",
            SLATE_API_WRITE_RATE_IP="1000000/min",
        )
        env.update(overrides)
        return env

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def start_stripe(self) -> None:
        port = str(urlsplit(self.stripe_url).port)
        script = str(REPO_ROOT / "bench" / "load" / "fake_stripe.py")
        self.start("localstripe", [sys.executable, script, "--port", port], dict(os.environ))
        wait_for(f"{self.stripe_url}/js.stripe.com/v3/")

    def start_worker(self) -> None:
        command = [
            str(BIN / "celery"), "-A", "slate", "worker", "-l", "WARNING", "-P", "prefork",
            "--concurrency", str(self.args.celery_concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self.start("worker", command, self.env())

    def start_web(self, **overrides: str) -> None:
        command = [
            str(BIN / "gunicorn"), "slate.wsgi:application", "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", str(self.args.workers), "--threads", str(self.args.threads),
            "--worker-class", "gthread", "--log-level", "warning", "--backlog", "2048",
        ]  # fmt: skip
        self.start("web", command, self.env(**overrides))
        wait_for(f"{self.url}/healthz")

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


# --- data --------------------------------------------------------------------------------------


def make_supporters(count: int, prefix: str) -> list[dict]:
    """Logged-in supporters: a session cookie and an API token each."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from api import services as api_services

    supporters = []
    for user in _setup.make_users(count, prefix):
        user.email = f"{user.username}@bench.example"
        user.save(update_fields=["email"])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        with transaction.atomic():
            _, token = api_services.create_token(user=user, name="load test")
        supporters.append({"id": user.pk, "session": session.session_key, "token": token})
    return supporters


def phase_config(slate, supporters, services) -> dict:
    from pledges.declarations import ATTESTATION_NAMES

    return {
        "slug": slate.slug,
        "slate_id": slate.pk,
        "supporters": supporters,
        "attestations": list(ATTESTATION_NAMES),
        "stripe_url": services.stripe_url,
        "publishable_key": PUBLISHABLE_KEY,
    }


# --- one phase ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    return _setup.percentile(sorted(values), fraction) if values else float("nan")


def run_locust(user_class: str, users: int, config: dict, services, args, tmp: Path) -> dict:
    config_path, result_path = tmp / "config.json", tmp / "result.json"
    config_path.write_text(json.dumps(config))
    result_path.unlink(missing_ok=True)
    command = [
        str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(users), "-r", str(users), "-t", f"{args.duration:g}s", "--stop-timeout", "60",
        "--host", services.url, "--loglevel", "WARNING", "--exit-code-on-error", "0", user_class,
    ]  # fmt: skip
    env = {**os.environ, "BENCH_CONFIG": str(config_path), "BENCH_RESULT": str(result_path)}
    with (tmp / "locust.log").open("ab") as log:
        subprocess.run(  # noqa: S603 - our own command
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            timeout=args.duration + 180, check=False,
        )  # fmt: skip
    if not result_path.exists():
        raise SystemExit(f"Locust wrote no result; see {tmp / 'locust.log'}")
    return json.loads(result_path.read_text())


def warm_up(services, slug: str) -> None:
    """A fresh gunicorn's first requests load code and compile templates: not what is measured."""
    for _ in range(2 * services.args.workers):
        for path in (f"/slates/{slug}/", f"/embed/slates/{slug}/", f"/slates/{slug}/progress/"):
            with urllib.request.urlopen(services.url + path, timeout=30):  # noqa: S310
                pass


def drain_queue(redis_client, seconds: float = 120) -> None:
    """Wait until the worker has taken and finished every task (acks late: unacked empties)."""
    deadline = time.monotonic() + seconds
    quiet = 0
    while time.monotonic() < deadline:
        busy = redis_client.llen("celery") + redis_client.hlen("unacked")
        quiet = quiet + 1 if busy == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.3)
    print(f"    (the Celery queue did not drain within {seconds:.0f}s)")


def counted_queries(redis_client, run: str) -> tuple[dict[str, int], dict[str, int]]:
    queries = {k.decode(): int(v) for k, v in redis_client.hgetall(f"{run}:queries").items()}
    calls = {k.decode(): int(v) for k, v in redis_client.hgetall(f"{run}:calls").items()}
    redis_client.delete(f"{run}:queries", f"{run}:calls")
    return queries, calls


def throughput(journeys: list[dict]) -> float:
    """Successful journeys per second of the phase, from the first start to the last end (the
    users stop starting journeys after --duration and finish the ones under way)."""
    if not journeys:
        return 0.0
    span = max(j["end"] for j in journeys) - min(j["start"] for j in journeys)
    return sum(1 for j in journeys if j["ok"]) / span if span > 0 else 0.0


def check_pledges(path: str, slate, journeys: list[dict]) -> dict:
    """Every journey Locust saw succeed is one committed pledge, and nothing else was committed;
    the maintained totals equal a recount."""
    from pledges.models import Pledge
    from pledges.selectors import totals_drift
    from pledges.states import PledgeKind, PledgeState
    from slate.selectors import slate_counts

    reported = [j["pledge"] for j in journeys if j["ok"]]
    rows = Pledge.objects.filter(slate=slate, kind=PledgeKind.MONEY)
    committed = set(rows.filter(state=PledgeState.COMMITTED).values_list("pk", flat=True))
    result = {
        "reported": len(reported),
        "doubled": len(reported) - len(set(reported)),
        "lost": len(set(reported) - committed),
        "unreported": len(committed - set(reported)),
        "pending": rows.filter(state=PledgeState.PENDING_CARD).count(),
    }
    if path == "bare":  # the bare view keeps no counters: there is nothing to recount
        result["drift_clean"] = None
        return result
    counts = slate_counts(slate.pk)
    drift = totals_drift(slate.pk)
    result["drift_clean"] = drift.clean and counts.money_pledge_count == len(committed)
    result["drift"] = list(drift.differences[:5])
    return result


def pledge_phase(path: str, users: int, services, args, tmp: Path, redis_client, run) -> dict:
    slate = _setup.make_open_slate(candidates=3, min_signatures=3, min_money_cents=10**9)
    supporters = make_supporters(users, f"{path}{users}-")
    config = phase_config(slate, supporters, services)
    warm_up(services, slate.slug)
    counted_queries(redis_client, run)  # forget the setup's
    result = run_locust(PATHS[path], users, config, services, args, tmp)
    drain_queue(redis_client)
    queries, calls = counted_queries(redis_client, run)
    journeys = result["journeys"]
    ok = sum(1 for j in journeys if j["ok"])
    latencies = result["latencies"]["slate"]
    per_pledge = sum(queries.values()) / ok if ok else float("nan")
    intake = sum(queries.get(view, 0) for view in INTAKE_VIEWS[path]) / ok if ok else float("nan")
    return {
        "path": path,
        "users": users,
        "slate": slate,
        "rate": throughput(journeys),
        "ok": ok,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "journey_p99": percentile(
            [(j["end"] - j["start"]) * 1000 for j in journeys if j["ok"]], 0.99
        ),
        "errors": sum(1 for j in journeys if not j["ok"]) + sum(result["failures"].values()),
        "failures": result["failures"],
        "queries_per_pledge": per_pledge,
        "intake_queries": intake,
        "queries": queries,
        "calls": calls,
        "check": check_pledges(path, slate, journeys),
    }


def read_phase(label: str, slate, services, args, tmp: Path, redis_client, run) -> dict:
    config = phase_config(slate, [], services)
    warm_up(services, slate.slug)
    counted_queries(redis_client, run)
    result = run_locust("AnonymousReader", args.read_users, config, services, args, tmp)
    queries, calls = counted_queries(redis_client, run)
    journeys = result["journeys"]
    reads = sum(calls.get(view, 0) for view in READ_VIEWS)
    latencies = result["latencies"]["slate"]
    return {
        "label": label,
        "rate": throughput(journeys),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "errors": sum(1 for j in journeys if not j["ok"]),
        "queries_per_read": sum(queries.get(v, 0) for v in READ_VIEWS) / reads if reads else 0,
        "page_cache": result["page_cache"],
    }


# --- report ------------------------------------------------------------------------------------


def print_pledge_table(rows: list[dict]) -> None:
    bare = {row["users"]: row["rate"] for row in rows if row["path"] == "bare"}
    header = (
        f"{'path':<5} {'users':>5} {'pledges/s':>9} {'vs bare':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'queries/pledge':>14} {'intake q':>8} "
        f"{'lost':>4} {'doubled':>7} {'drift':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        check = row["check"]
        ratio = f"{row['rate'] / bare[row['users']]:.0%}" if bare.get(row["users"]) else "-"
        drift = {None: "n/a", True: "clean", False: "DRIFT"}[check["drift_clean"]]
        print(
            f"{row['path']:<5} {row['users']:>5} {row['rate']:>9.1f} {ratio:>7} "
            f"{row['p50']:>7.0f} {row['p95']:>7.0f} {row['p99']:>7.0f} {row['errors']:>6} "
            f"{row['queries_per_pledge']:>14.1f} {row['intake_queries']:>8.1f} "
            f"{check['lost']:>4} {check['doubled'] + check['unreported']:>7} {drift:>5}"
        )
    print(
        "pledges/s: whole journeys completed per second, first start to last end (web: slate "
        "page, form, form POST, card page, localstripe confirm, card confirm POST, thank-you "
        "page; api: POST /api/v1/pledges then the card pages; bare: one POST). p50-p99: every "
        "Slate request (localstripe's own calls apart). queries/pledge: every query of the "
        "phase, web and worker, per completed pledge; intake q: those of the create and commit "
        "requests. lost: a pledge seen to succeed and not committed; doubled: committed twice "
        "or never reported; drift: maintained totals vs a recount."
    )
    for row in rows:
        for message, count in list(row["failures"].items())[:5]:
            print(f"    {row['path']} {row['users']}: {count} x {message}")
        for line in row["check"].get("drift", []):
            print(f"    DRIFT {row['path']} {row['users']}: {line}")


def print_query_breakdown(rows: list[dict]) -> None:
    for row in rows:
        print(f"queries per call, {row['path']} at {row['users']} users:")
        for name, calls in sorted(row["calls"].items(), key=lambda item: -row["queries"][item[0]]):
            print(f"    {name:<52} {calls:>6} calls {row['queries'][name] / calls:>7.1f} queries")


def print_read_table(rows: list[dict], users: int) -> None:
    header = (
        f"{'public pages, ' + str(users) + ' readers':<28} {'reads/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'queries/read':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['label']:<28} {row['rate']:>8.1f} {row['p50']:>7.0f} {row['p99']:>7.0f} "
            f"{row['errors']:>6} {row['queries_per_read']:>12.2f}  "
            + ", ".join(f"{count} {answer}" for answer, count in sorted(row["page_cache"].items()))
        )
    print("reads: the slate page, the widget and the progress fragment in turn, no cookies.")


def main() -> int:
    import redis

    args = parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    redis_client = redis.Redis.from_url(redis_url)
    redis_client.flushdb()
    run = os.environ.setdefault("BENCH_RUN", "bench-load")
    tmp = Path(tempfile.mkdtemp(prefix="slate-load-"))
    services = Services(args, tmp, redis_url)
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, Celery worker x "
        f"{args.celery_concurrency}, localstripe; {args.duration:g} s per phase; "
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start"
    )
    rows, reads, failed, finished = [], [], False, False
    try:
        services.start_stripe()
        services.start_worker()
        services.start_web()
        for path in args.path_names:
            for users in args.user_counts:
                row = pledge_phase(path, users, services, args, tmp, redis_client, run)
                rows.append(row)
                check = row["check"]
                if check["lost"] or check["doubled"] or check["unreported"]:
                    failed = True
                if check["drift_clean"] is False:
                    failed = True
        print_pledge_table(rows)
        if args.queries:
            print_query_breakdown(rows)
        if not args.no_reads:
            # The slate with the most pledges: its page has a chart, a roll, state figures.
            slate = max(rows, key=lambda row: row["ok"])["slate"] if rows else None
            slate = slate or _setup.make_open_slate()
            for label, seconds in (("without the cache", "0"), ("with the cache (5 s)", "5")):
                services.stop("web")
                services.start_web(SLATE_PUBLIC_PAGE_CACHE_SECONDS=seconds)
                reads.append(read_phase(label, slate, services, args, tmp, redis_client, run))
            print_read_table(reads, args.read_users)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        finished = True
    finally:
        services.stop_all()
        redis_client.flushdb()
        if finished and not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs kept in {tmp}")
    if failed:
        print("FAILED: a pledge was lost or doubled, or the totals drifted (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    name = urlsplit(os.environ.get("DATABASE_URL", _setup.DEFAULT_DATABASE_URL)).path.lstrip("/")
    with _setup.bench_database(_setup.scratch_name(f"{name or 'slate'}_bench_load")):
        code = main()
    sys.exit(code)
