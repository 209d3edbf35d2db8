"""Benchmark: one organizer update to N supporters through real Celery workers.

Builds an open slate with N sign-on supporters (users and pledge rows bulk-inserted: the
audience is what is measured, not pledging), then:

1. **queries**: a 200-supporter update sent in this process (tasks eager), every query
   captured: the database work per message, the update's preparation included;
2. **unlimited**: real Celery worker processes (``--workers``, prefork, Redis broker, the
   locmem mail backend) send the N-supporter update with ``SLATE_UPDATE_SENDS_PER_SECOND=0``:
   messages per second from "Send" to the last settled recipient, and from the first send to
   the last; PostgreSQL's own counters (transactions, rows written and read) per message;
3. **limited**: the workers restarted with ``SLATE_UPDATE_SENDS_PER_SECOND=--rate`` send a
   ``--limited-supporters`` update: the rate achieved against the one configured.

If Slate is not what limits the sending rate, phase 2's rate is well above the default
setting (14/s, a mail provider's usual starting quota) and phase 3 keeps to its limit.
Prints figures only; nothing here asserts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate .venv/bin/python \\
        bench/organizer_updates.py [--supporters 1000] [--workers 2] [--rate 100] \\
        [--limited-supporters 300] [--broker redis://127.0.0.1:6379/7]

The default (1,000 supporters, 300 under the limit) takes about a minute on two cores; the
README's figures are ``--supporters 5000 --limited-supporters 1000`` (a few minutes);
``--supporters 100000`` is the issue's size (about an hour on the busy machine).
"""

import argparse
import contextlib
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup

SAMPLE = 200
STATES = ["CA", "NY", "TX", "PA", "OH", "MI", "WI", "AZ", "GA", "NC"]
DEFAULT_BROKER = os.environ.get("SLATE_BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")


def supporters_slate(count: int, prefix: str):
    """An open slate with ``count`` sign-on supporters, rows inserted in bulk."""
    from django.contrib.auth import get_user_model

    from pledges.models import Pledge
    from pledges.states import PledgeKind, PledgeState

    User = get_user_model()
    slate = _setup.make_open_slate()
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.org", password="!")  # noqa: S106 (unusable)
            for i in range(count)
        ],
        batch_size=5_000,
    )
    Pledge.objects.bulk_create(
        [
            Pledge(
                supporter=user,
                slate=slate,
                kind=PledgeKind.SIGNON,
                state=PledgeState.COMMITTED,
                supporter_state=STATES[i % len(STATES)],
            )
            for i, user in enumerate(users)
        ],
        batch_size=5_000,
    )
    return slate


def queue(slate):
    from organizing import updates

    organizer = slate.organizers.first()
    return updates.queue_update(
        slate=slate, author=organizer, subject="Canvass this Saturday",
        body="We meet at **10am** at the library. [Sign up](https://example.org/shifts).",
        segment={"kinds": ["signon"]}, token=uuid.uuid4(),
    )  # fmt: skip


def database_counters() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, tup_inserted, tup_updated, tup_returned + tup_fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return dict(
        zip(("transactions", "rows inserted", "rows updated", "rows read"), row, strict=True)
    )


def wait_sent(update, timeout: float = 3_600) -> float:
    from organizing.models import OrganizerUpdate

    started = time.perf_counter()
    while OrganizerUpdate.objects.get(pk=update.pk).status != OrganizerUpdate.Status.SENT:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"update {update.pk} not sent in {timeout:.0f}s")
        time.sleep(0.05)
    return time.perf_counter() - started


def send_span(update) -> tuple[int, float]:
    """Messages sent, and seconds from the first send to the last."""
    from django.db.models import Max, Min

    from slate.models import OutboundEmail

    sent = OutboundEmail.objects.filter(
        key__startswith=f"organizer-update:{update.pk}:", status=OutboundEmail.Status.SENT
    )
    span = sent.aggregate(first=Min("created_at"), last=Max("settled_at"))
    return sent.count(), (span["last"] - span["first"]).total_seconds()


def phase_queries() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slate = supporters_slate(SAMPLE, "sample")
    with CaptureQueriesContext(connection) as queries:
        update = queue(slate)  # eager: prepare and every batch run here
    sent, _ = send_span(update)
    print(
        f"queries: {len(queries)} for {sent} messages, {len(queries) / sent:.1f} per message "
        "(preparing the update and settling included)"
    )


@contextlib.contextmanager
def workers(count: int, broker: str, rate: int):
    from release import celery_workers

    os.environ["SLATE_UPDATE_SENDS_PER_SECOND"] = str(rate)
    with celery_workers(count, broker=broker, requests_per_second=0):
        yield


def phase_send(args, *, supporters: int, rate: int, label: str) -> None:
    slate = supporters_slate(supporters, f"{label}-")
    with workers(args.workers, args.broker, rate):
        before = database_counters()
        update = queue(slate)
        seconds = wait_sent(update)
        time.sleep(1.5)  # PostgreSQL publishes its counters from each backend within a second
        after = database_counters()
    sent, span = send_span(update)
    limit = f"limit {rate}/s" if rate else "no limit"
    print(
        f"{label}: {sent:,} messages ({limit}, {args.workers} worker processes) in {seconds:.1f} s "
        f"from Send: {sent / seconds:,.0f} messages/s; first send to last: "
        f"{sent / span:,.0f} messages/s"
        + (f" ({sent / span / rate:.0%} of the limit)" if rate else "")
    )
    per = ", ".join(f"{(after[k] - before[k]) / sent:.1f} {k}" for k in before)
    print(f"{label}: database work per message (PostgreSQL's counters, whole database): {per}")


def main(args) -> None:
    # The workers inherit this environment: mail to memory, and no cap in the way of a rerun.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS"] = "1000"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["SLATE_UPDATE_SENDS_PER_SECOND"] = "0"  # phase 1, in this process
    with _setup.bench_database(_setup.scratch_name("slate_bench_updates")):
        print(
            f"One organizer update, {args.supporters:,} supporters, batches of "
            f"{os.environ.get('SLATE_UPDATE_BATCH_SIZE', 500)}, shared machine"
        )
        phase_queries()
        phase_send(args, supporters=args.supporters, rate=0, label="unlimited")
        if args.rate:
            phase_send(
                args,
                supporters=min(args.limited_supporters, args.supporters),
                rate=args.rate,
                label="limited",
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--supporters", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--rate", type=int, default=100, help="phase 3's limit (0: skip it)")
    parser.add_argument("--limited-supporters", type=int, default=300)
    parser.add_argument("--broker", default=DEFAULT_BROKER, help="Redis for the workers")
    main(parser.parse_args())
