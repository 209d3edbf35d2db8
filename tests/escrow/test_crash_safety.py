"""Never lose, never double — with real Celery worker processes on the Redis broker.

A slate of 300 held card pledges locks and its release runs in a worker subprocess. Then:

* the worker is SIGKILLed mid-release (its unacked chunk message stays invisible for the
  broker's hour-long visibility timeout, a payment may be left ``capturing``), a new worker
  starts and settles the other chunks, and the escrow sweeper finishes the dead one's;
* every message is lost: the lock's messages are purged before any worker runs, and later
  the remaining chunk messages are purged while the worker is stopped mid-release; the
  sweeper finishes again.

Either way every pledge is captured exactly once on (local)stripe, the books balance and the
payouts add up to the captures.

The worker runs ``python -m celery -A slate worker --pool=solo`` with the production settings
module (``slate.settings``, eager off, so each chunk is its own broker message as in
production; ``tests.settings`` would force eager mode and run the whole chain inline in one
message) against the test database, localstripe, and Redis db 14. The test process publishes
to the same db 14 with eager mode off. Every pledge holds an authorization: localstripe ignores
idempotency keys, so a worker killed while *creating* an off-session charge would, on the
sweeper's retry, make a second charge there that real Stripe would not (see
tests/localstripe.py).
"""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from escrow import holds as escrow_holds
from escrow import sweeper
from escrow.models import Payment, Payout
from escrow.selectors import ledger_problems
from pledges.models import Pledge
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from slate.celery import app
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.escrow.test_lost_creates import plant_orphan_charge
from tests.escrow.test_release_at_scale import captured_cents_on_stripe, captures_by_pledge
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.timeout(600),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
# A Redis database of this run's own: the fixture empties it, so two suites on one machine
# (two worktrees, or CI beside a session) must not share it.
BROKER_URL = os.environ.get("SLATE_TEST_WORKER_BROKER_URL", "redis://127.0.0.1:6379/14")
PLEDGES = 300
CHARGED_PLEDGES = 60
CHUNK_SIZE = 25
REQUESTS_PER_SECOND = 20  # 300 captures take about 15 s: room to stop the worker midway
SETUP_THREADS = 4
WORKER_START_TIMEOUT = 60
RELEASE_TIMEOUT = 150


# --- broker and workers -------------------------------------------------------------------------


def _use_broker(write_url: str | None, *, eager: bool) -> None:
    """Publish from this process to ``write_url``, dropping connections made for another.

    ``broker_write_url``, not ``broker_url``: Celery's ``conf.broker_url`` prefers the
    ``CELERY_BROKER_URL`` environment variable (which tests/settings.py sets) over any value
    assigned to it, so assigning it would silently keep publishing to the suite's broker."""
    app._pool = None  # kombu keeps a pool per URL; the next publish takes the one for this URL
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app.conf.broker_write_url = write_url
    app.conf.task_always_eager = eager


@pytest.fixture
def broker():
    """The workers' Redis database (db 14 unless SLATE_TEST_WORKER_BROKER_URL names another),
    emptied (queues and unacked messages) before and after; this process publishes there with
    eager mode off for the test's duration."""
    store = redis.Redis.from_url(BROKER_URL)
    store.flushdb()
    previous = (app.conf.get("broker_write_url"), app.conf.task_always_eager)
    _use_broker(BROKER_URL, eager=False)
    assert app.connection_for_write().as_uri().endswith("/" + BROKER_URL.rsplit("/", 1)[1])
    try:
        yield store
    finally:
        _use_broker(previous[0], eager=previous[1])
        store.flushdb()
        store.close()


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{quote(db['USER'])}{password}@{host}:{port}/{db['NAME']}"


class StallingProxy:
    """Stands between the workers and localstripe. Armed, it lets the next capture (or
    create) reach localstripe and then holds its answer back: Stripe has taken the money, the
    worker has not heard of it (its payment row still says ``capturing``, or ``creating``
    with no intent id) — the worst moment to die."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        # Which POST to hold back: a capture, or (``/v1/payment_intents``) a create.
        self.stall_path = "/capture"
        self.stalled_path, self.stalled_body = "", b""  # the request held back
        self.armed = threading.Event()
        self.stalled = threading.Event()
        self.go = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                skip = {"host", "content-length", "connection", "accept-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                request = urllib.request.Request(  # noqa: S310
                    proxy.upstream + self.path, data=body, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                stall = self.command == "POST" and self.path.endswith(proxy.stall_path)
                if stall and proxy.armed.is_set():
                    proxy.armed.clear()
                    proxy.stalled_path, proxy.stalled_body = self.path, body or b""
                    proxy.stalled.set()
                    proxy.go.wait(60)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True  # the worker is gone

            do_GET = do_POST = do_DELETE = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.go.set()
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """Celery worker subprocesses, each in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log_dir: Path, proxy: StallingProxy) -> None:
        self.env = env
        self.log_dir = log_dir
        self.proxy = proxy
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "celery", "-A", "slate", "worker", "--pool=solo",
                    "-l", "info", "-n", f"{name}-{uuid.uuid4().hex[:8]}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        process.log_path = log_path
        self.processes.append(process)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None:
                pytest.fail(
                    f"worker {name} exited with {process.returncode}:\n{self.tail(process)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"worker {name} not ready in {WORKER_START_TIMEOUT}s")
            time.sleep(0.1)
        return process

    @staticmethod
    def tail(process: subprocess.Popen, lines: int = 40) -> str:
        text = process.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group: no warm shutdown, nothing acked."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    @classmethod
    def stop(cls, process: subprocess.Popen, timeout: float = 60) -> None:
        """Warm shutdown: the task at hand finishes, nothing new is taken."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                cls.kill(process)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def workers(broker, localstripe, transactional_db, tmp_path):
    proxy = StallingProxy(localstripe.url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "slate.settings",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "DATABASE_URL": _test_database_url(),
        "STRIPE_API_BASE": proxy.url,
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
        "SLATE_RELEASE_CHUNK_SIZE": str(CHUNK_SIZE),
        "SLATE_STRIPE_REQUESTS_PER_SECOND": str(REQUESTS_PER_SECOND),
        "SLATE_PAYMENT_STALE_SECONDS": "300",
        "SLATE_VAR_DIR": str(tmp_path / "var"),
        "SLATE_ENV": "development",
        "DEBUG": "0",
        "LOG_LEVEL": "INFO",
    }
    env.pop("REDIS_URL", None)
    pool = Workers(env, tmp_path, proxy)
    try:
        yield pool
    finally:
        pool.close()  # before pytest-django empties the database the workers use
        proxy.close()


# --- helpers ------------------------------------------------------------------------------------


def held_pledges(slate, count: int) -> list[Pledge]:
    """``count`` supporters, each with a saved card and an authorization hold, made a few at
    a time (localstripe answers one request at a time; the database work overlaps)."""
    supporters = UserFactory.create_batch(count)

    def make(index: int) -> Pledge:
        try:
            pledge = pledge_with_card(
                slate, amount_cents=1_000 + 7 * index, supporter=supporters[index]
            )
            payment = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
            assert payment.status == Payment.Status.REQUIRES_CAPTURE
            return pledge
        finally:
            connection.close()

    with ThreadPoolExecutor(SETUP_THREADS) as executor:
        return list(executor.map(make, range(count)))


def pledges_with_saved_cards(slate, count: int) -> list[Pledge]:
    """``count`` supporters, each with a saved card and no hold: the release charges them
    off-session."""
    supporters = UserFactory.create_batch(count)

    def make(index: int) -> Pledge:
        try:
            return pledge_with_card(
                slate, amount_cents=10_000 + 7 * index, supporter=supporters[index]
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(SETUP_THREADS) as executor:
        return list(executor.map(make, range(count)))


def captured_count(slate) -> int:
    return Pledge.objects.filter(slate=slate, state=PledgeState.CAPTURED).count()


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def drain(workers, process, timeout: float = 60) -> None:
    """Drive ``process`` through everything queued so far: a marker task sent now (a threshold
    evaluation of no slate, which changes nothing) runs after whatever was queued before it
    (one queue, a solo worker), so once its log says it succeeded, nothing queued earlier is
    left to act. What a test then finds unchanged, the worker had its chance to change."""
    marker = app.send_task("slate.tasks.evaluate_threshold", args=[0])
    assert wait_for(
        lambda: f"[{marker.id}] succeeded" in process.log_path.read_text(errors="replace"),
        timeout,
    ), f"the marker task did not run:\n{workers.tail(process)}"


def drain_until_idle(workers, process, broker, *, unacked: int, timeout: float = 120) -> None:
    """Drain ``process`` until it has nothing left to do: its queue empty and no message
    delivered to it unacknowledged beyond the ``unacked`` that dead workers left. One drain is
    not enough when a task queued before the marker queues more work (a chunk's follow-up, a
    re-walk) behind it."""
    deadline = time.monotonic() + timeout
    while True:
        drain(workers, process, timeout=max(1.0, deadline - time.monotonic()))
        if broker.llen("celery") == 0 and broker.hlen("unacked") <= unacked:
            return
        assert time.monotonic() < deadline, f"the worker never went idle:\n{workers.tail(process)}"


def lock(slate) -> None:
    """Sign enough candidates and lock, here; the lock's event and release go to the broker."""
    for candidate in slate_candidates(slate)[: slate.threshold_min_signatures]:
        sign(candidate, slate)
    slate_lifecycle.evaluate_threshold(slate_id=slate.pk)  # a running worker may be first
    assert Slate.objects.get(pk=slate.pk).state != SlateState.OPEN


def sweep_until_released(slate, timeout: float = RELEASE_TIMEOUT) -> int:
    """Run the escrow sweeper (as beat would, an hour later, so every in-flight payment counts
    as stale) until the slate is released and its payouts are sent; returns the sweeps run."""
    deadline = time.monotonic() + timeout
    sweeps = 0

    def done() -> bool:
        slate.refresh_from_db()
        unsent = Payout.objects.filter(slate=slate, status__in=["pending", "sending"]).exists()
        paid = Payout.objects.filter(slate=slate).aggregate(s=Sum("amount_cents"))["s"] or 0
        return slate.state == SlateState.RELEASED and not unsent and paid == captured_total(slate)

    while not done():
        assert time.monotonic() < deadline, f"not released in {timeout}s: {slate.state}"
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
        sweeps += 1
        wait_for(done, timeout=min(20, max(0.0, deadline - time.monotonic())), interval=0.25)
    return sweeps


def captured_total(slate) -> int:
    return (
        Pledge.objects.filter(slate=slate, state=PledgeState.CAPTURED).aggregate(
            s=Sum("captured_cents")
        )["s"]
        or 0
    )


def assert_each_captured_once_and_paid_out(localstripe, slate, pledges) -> None:
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    assert captured_count(slate) == len(pledges)
    counts = captures_by_pledge(localstripe)
    assert {pk: n for pk, n in counts.items() if n != 1} == {}, "captured more than once"
    assert set(counts) == {p.pk for p in pledges}, "some pledges never captured"
    total = sum(p.amount_cents for p in pledges)
    assert captured_total(slate) == total
    assert captured_cents_on_stripe(localstripe, [p.pk for p in pledges]) == total
    assert Payout.objects.filter(slate=slate).aggregate(s=Sum("amount_cents"))["s"] == total
    assert not Payment.objects.filter(status__in=Payment.IN_FLIGHT).exists()
    assert ledger_problems() == []


# --- scenarios ----------------------------------------------------------------------------------


def test_worker_killed_mid_release_loses_and_doubles_nothing(localstripe, workers, broker, capsys):
    started = time.monotonic()
    slate = make_open_slate(candidates=3, min_signatures=2)
    pledges = held_pledges(slate, PLEDGES)
    setup_seconds = time.monotonic() - started

    first = workers.start("first")
    lock(slate)
    locked = time.monotonic()
    assert wait_for(lambda: captured_count(slate) >= PLEDGES // 5, timeout=90), (
        f"the worker captured {captured_count(slate)} in 90 s:\n{workers.tail(first)}"
    )
    # Die right after Stripe captured a hold, before the worker could record it.
    workers.proxy.armed.set()
    assert workers.proxy.stalled.wait(30), "no capture went through the proxy"
    workers.kill(first)
    killed = time.monotonic()
    dead_unacked = broker.hlen("unacked")  # the chunk the dead worker held, unacknowledged
    workers.proxy.go.set()
    at_kill = captured_count(slate)
    assert at_kill < PLEDGES, "the release finished before the kill; lower the rate"
    # The held-back capture's payment; other threads of the chunk (SLATE_RELEASE_THREADS)
    # may have died in their own Stripe calls too: they are the chunk's, left for the sweeper.
    intent_id = workers.proxy.stalled_path.split("/")[3]
    stranded = Payment.objects.get(payment_intent_id=intent_id)
    assert stranded.status == Payment.Status.CAPTURING
    intent = localstripe.get(f"/v1/payment_intents/{stranded.payment_intent_id}")
    assert intent["status"] == "succeeded"  # the money is taken; our books do not know yet
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASING

    # The release's other chunks are messages of their own: a new worker settles them. The
    # chunk the dead worker held stays unacked (invisible for the broker's visibility
    # timeout), so its rest, the stranded payment first, waits for the sweeper.
    ordered = sorted(p.pk for p in pledges)
    start = ordered.index(stranded.pledge_id) // CHUNK_SIZE * CHUNK_SIZE
    dead_chunk = ordered[start : start + CHUNK_SIZE]
    left_for_sweeper = set(
        Pledge.objects.filter(pk__in=dead_chunk)
        .exclude(state=PledgeState.CAPTURED)
        .values_list("pk", flat=True)
    )
    assert stranded.pledge_id in left_for_sweeper
    in_flight = Payment.objects.filter(status__in=Payment.IN_FLIGHT)
    assert set(in_flight.values_list("pledge_id", flat=True)) <= left_for_sweeper
    second = workers.start("second")
    assert wait_for(lambda: captured_count(slate) == PLEDGES - len(left_for_sweeper), 90), (
        f"{captured_count(slate)} captured:\n{workers.tail(second)}"
    )
    # Whatever the new worker was given, it has done: had anything of it reached the dead
    # worker's chunk (the unacked message the kill left), the chunk's pledges would show it.
    drain_until_idle(workers, second, broker, unacked=dead_unacked)
    uncaptured = Pledge.objects.filter(slate=slate).exclude(state=PledgeState.CAPTURED)
    assert set(uncaptured.values_list("pk", flat=True)) == left_for_sweeper
    resumed = time.monotonic()
    sweeps = sweep_until_released(slate)
    finished = time.monotonic()
    workers.stop(second)

    stranded.refresh_from_db()
    assert stranded.status == Payment.Status.SUCCEEDED
    assert_each_captured_once_and_paid_out(localstripe, slate, pledges)
    with capsys.disabled():
        print(
            f"\n[kill] setup {setup_seconds:.1f}s; killed {killed - locked:.1f}s after the lock "
            f"with {at_kill}/{PLEDGES} captured and payment {stranded.pk} captured on Stripe "
            f"but not recorded; {sweeps} sweep(s) finished the rest in {finished - resumed:.1f}s"
        )


def test_lost_messages_are_replaced_by_the_sweeper(localstripe, workers, broker, capsys):
    started = time.monotonic()
    slate = make_open_slate(candidates=3, min_signatures=2)
    pledges = held_pledges(slate, PLEDGES)
    setup_seconds = time.monotonic() - started

    # No worker: the evaluations, the lock's event and so the release are only messages...
    lock(slate)
    app.control.purge()  # ...and they are lost.
    assert broker.llen("celery") == 0
    first = workers.start("first")
    drain(workers, first)
    assert Slate.objects.get(pk=slate.pk).state == SlateState.LOCKED
    assert captured_count(slate) == 0

    # The sweeper finds the slate locked with no release: the release starts.
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    assert wait_for(lambda: captured_count(slate) >= PLEDGES // 5, timeout=90), (
        f"the worker captured {captured_count(slate)} in 90 s:\n{workers.tail(first)}"
    )
    # Mid-release the worker stops cleanly, and the next chunk's message is lost.
    workers.stop(first)
    first.wait(timeout=60)  # the warm shutdown finishes the chunk at hand, then exits
    app.control.purge()
    at_stop = captured_count(slate)
    in_flight = Payment.objects.filter(status__in=Payment.IN_FLIGHT).count()
    assert at_stop < PLEDGES, "the release finished before the stop; lower the rate"
    assert Slate.objects.get(pk=slate.pk).state == SlateState.RELEASING

    second = workers.start("second")
    drain(workers, second)
    assert captured_count(slate) == at_stop  # nothing left to drive the release
    resumed = time.monotonic()
    sweeps = sweep_until_released(slate)
    finished = time.monotonic()
    workers.stop(second)

    assert_each_captured_once_and_paid_out(localstripe, slate, pledges)
    with capsys.disabled():
        print(
            f"\n[lost] setup {setup_seconds:.1f}s; stopped after {at_stop}/{PLEDGES} captures, "
            f"{in_flight} payment(s) in flight; {sweeps} sweep(s) finished the rest in "
            f"{finished - resumed:.1f}s"
        )


def test_worker_killed_after_an_off_session_charge_charges_nobody_twice(
    localstripe, workers, capsys
):
    """Issue 14.10, as an operator saw it: the worker dies just after Stripe made an
    off-session charge; the sweeper, an hour later, finds the charge by our ids and adopts
    it instead of sending the create again (localstripe, like Stripe after 24 hours, would
    charge a second time). Then a charge planted behind the books' back is reported."""
    slate = make_open_slate(candidates=3, min_signatures=2)
    pledges = pledges_with_saved_cards(slate, CHARGED_PLEDGES)

    first = workers.start("first")
    workers.proxy.stall_path = "/v1/payment_intents"
    workers.proxy.armed.set()
    lock(slate)
    assert workers.proxy.stalled.wait(60), f"no charge went through:\n{workers.tail(first)}"
    workers.kill(first)
    workers.proxy.go.set()
    # The held-back create's payment, by the ids in its metadata; other threads' creates
    # (SLATE_RELEASE_THREADS) may have died in flight too: the sweeper adopts those alike.
    sent = parse_qs(workers.proxy.stalled_body.decode())
    stranded = Payment.objects.get(pk=int(sent["metadata[payment_id]"][0]))
    assert (stranded.status, stranded.payment_intent_id) == (Payment.Status.CREATING, None)
    in_flight = Payment.objects.filter(status__in=Payment.IN_FLIGHT)
    assert set(in_flight.values_list("status", flat=True)) == {Payment.Status.CREATING}
    [intent] = localstripe.payment_intents_for(payment_id=stranded.pk)
    assert intent["status"] == "succeeded"  # charged; our books do not know it

    second = workers.start("second")
    resumed = time.monotonic()
    sweeps = sweep_until_released(slate)
    finished = time.monotonic()
    workers.stop(second)

    stranded.refresh_from_db()
    assert stranded.payment_intent_id == intent["id"]  # adopted, not made again
    assert_each_captured_once_and_paid_out(localstripe, slate, pledges)
    assert len(localstripe.list_all("/v1/payment_intents")) == len(pledges)
    call_command("reconcile")  # the books, and Stripe's side, agree

    planted = plant_orphan_charge(pledges[0], amount_cents=10_000)
    with pytest.raises(CommandError, match="1 difference"):
        call_command("reconcile")
    output = capsys.readouterr().out
    assert f"(PaymentIntent {planted.id}): 10000 cents taken at Stripe" in output
    with capsys.disabled():
        print(
            f"\n[kill-create] killed with payment {stranded.pk} charged on Stripe but not "
            f"recorded; {sweeps} sweep(s) finished in {finished - resumed:.1f}s; "
            f"{len(pledges)} intents for {len(pledges)} pledges; the planted orphan reported"
        )
