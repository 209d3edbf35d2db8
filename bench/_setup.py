"""Shared setup for the benchmarks; not a benchmark itself (running it does nothing).

``bench_database(name)`` creates a throwaway PostgreSQL database next to the one named in
``DATABASE_URL`` (the real one is never touched), points Django at it, sets Django up,
migrates, and drops the database again on the way out, whatever happens.
``make_open_slate`` (through ``demo.builders``) and ``make_users`` build data through the
real services.
"""

import contextlib
import itertools
import logging
import os
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/slate"

_sequence = itertools.count(1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _drop_and_create(admin_url: str, name: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def bench_database(name: str):
    """Run the body against a fresh database ``name`` on the server of ``DATABASE_URL``."""
    source_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if urlsplit(source_url).scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"the benchmarks need PostgreSQL; DATABASE_URL is {source_url!r}")
    if urlsplit(source_url).path.lstrip("/") == name:
        raise SystemExit(f"refusing to use the configured database {name!r} as a scratch database")
    admin_url = _with_database(source_url, "postgres")
    _drop_and_create(admin_url, name, create=True)
    var_dir = tempfile.mkdtemp(prefix="slate-bench-")
    try:
        os.environ["DATABASE_URL"] = _with_database(source_url, name)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slate.settings")
        # Tasks run inline, so no worker is needed; Celery still builds a producer for eager
        # tasks, so give it the in-process transport rather than a real broker.
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        # DEBUG would keep every query in memory; CaptureQueriesContext works without it.
        os.environ["DEBUG"] = "0"
        # Anything the settings would put under var/ goes to a scratch folder instead.
        os.environ["SLATE_VAR_DIR"] = var_dir
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))

        import django

        django.setup()
        # Eager tasks make Celery build a producer, whose transport warns that it has no
        # hostname (the in-memory transport needs none); keep the figures readable.
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _drop_and_create(admin_url, name, create=False)
        shutil.rmtree(var_dir, ignore_errors=True)


def scratch_name(default: str) -> str:
    """The scratch database's name: ``BENCH_DATABASE`` when set (two people benchmarking on
    one server give different names), else the script's own."""
    return os.environ.get("BENCH_DATABASE", default)


def make_users(count: int, prefix: str) -> list:
    """Plain accounts with unusable passwords (no password hashing, so they are cheap)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return [
        User.objects.create_user(username=f"{prefix}{next(_sequence)}", password=None)
        for _ in range(count)
    ]


def make_open_slate(*, candidates: int = 3, min_signatures: int = 3, min_money_cents: int = 0):
    """An open slate with ``candidates`` invited, claimed and verified candidates and a
    published agreement, built by ``demo.builders`` (as tests/factories.make_open_slate)."""
    from django.utils import timezone

    from demo import builders
    from slate import lifecycle as slate_lifecycle

    [organizer] = make_users(1, "organizer")
    number = next(_sequence)
    slate = builders.draft_slate(
        organizer=organizer,
        name=f"Bench slate {number}",
        deadline=timezone.now() + timedelta(days=60),
        min_signatures=min_signatures,
        min_money_cents=min_money_cents,
    )
    states = ["CA", "NY", "TX", "PA", "OH"]
    for index in range(candidates):
        full_name = f"Candidate Number{next(_sequence)}"
        [owner] = make_users(1, "candidate")
        candidate = builders.claimed_candidate(
            organizer=organizer,
            user=owner,
            full_name=full_name,
            state=states[index % len(states)],
            district=str(index + 1),
        )
        builders.invite_and_verify(slate=slate, candidate=candidate, organizer=organizer)
    builders.publish_agreement(slate=slate, organizer=organizer)
    slate_lifecycle.open_slate(slate=slate, actor=organizer)
    slate.refresh_from_db()
    return slate


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


if __name__ == "__main__":
    pass  # `make bench` runs every bench/*.py; this helper has nothing to measure.
