import importlib

import pytest
from django.apps import apps
from pytest_django.plugin import blocking_manager_key

from slate import events

# Rows that data migrations seed, which the app needs to behave as in production.
SEEDING_MIGRATIONS = ["compliance.migrations.0002_seed_2025_2026_limits"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by emptying every table, the rows data migrations seeded
    (the contribution limits) included. Put them back once its fixtures are torn down (the
    flush is one of them), so that no later test's outcome depends on whether a
    transactional test happened to run before it."""
    yield
    marker = item.get_closest_marker("django_db")
    flushed = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )
    if flushed and nextitem is not None:  # after the last test the test database is gone
        with item.config.stash[blocking_manager_key].unblock():
            for module in SEEDING_MIGRATIONS:
                importlib.import_module(module).seed(apps, None)


@pytest.fixture
def slate_events():
    """Collects every slate event sent, as (signal name, slate_id) pairs."""
    received: list[tuple[str, int]] = []
    handlers = []
    for name in ("slate_opened", "slate_locked", "slate_expired", "slate_voided"):
        signal = getattr(events, name)

        def handler(sender, slate_id, _name=name, **kwargs):
            received.append((_name, slate_id))

        signal.connect(handler, weak=False, dispatch_uid=f"test-{name}")
        handlers.append((signal, name))
    yield received
    for signal, name in handlers:
        signal.disconnect(dispatch_uid=f"test-{name}")
