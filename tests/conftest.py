import importlib
import os

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations
from django.http import HttpRequest
from django.test.client import ClientMixin
from hypothesis import settings as hypothesis_settings
from pytest_django.plugin import blocking_manager_key

from slate import events
from tests.localstripe import localstripe, localstripe_server  # noqa: F401  (one per process)
from tests.stripe_params import RECORDER as STRIPE_REQUESTS

# In CI (CI=true) the property tests draw the same examples on every run, and keep no example
# database between runs: a red run is repeatable and a green one is not luck. Elsewhere they
# explore new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# Set on a test that must share a parallel worker with others and did not (see below).
UNGROUPED = pytest.StashKey[str]()

# Rows that data migrations seed, which the app needs to behave as in production.
SEEDING_MIGRATIONS = ["compliance.migrations.0002_seed_2025_2026_limits"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the seeded rows there from the first test on: a database kept
    from an earlier run (--reuse-db) has none when that run's last test was transactional (its
    flush emptied them, and nothing re-seeds after the last test). Seeding is idempotent.

    Commits in the test database do not wait for the WAL to reach the disk (0.8 ms a commit
    here, 0.07 ms without): the suite commits tens of thousands of times (transactional tests,
    live servers, real workers), and what it tests is Slate's behaviour when its own
    processes die, never PostgreSQL's durability when the server does. Set on the database,
    so the workers' and servers' own connections get it too."""
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                "SET synchronous_commit = off"
            )
            cursor.execute("SET synchronous_commit = off")
        for module in SEEDING_MIGRATIONS:
            importlib.import_module(module).seed(apps, None)


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
    # (A test stopped before its setup, for want of its group, reached no database.)
    flushed = flushed and UNGROUPED not in item.stash
    if flushed and nextitem is not None:  # after the last test the test database is gone
        with item.config.stash[blocking_manager_key].unblock():
            for module in SEEDING_MIGRATIONS:
                importlib.import_module(module).seed(apps, None)


@pytest.hookimpl(wrapper=True)  # around pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests that start real Celery workers consume from, purge or empty the run's Redis
    databases (CELERY_BROKER_URL, SLATE_TEST_WORKER_BROKER_URL): when the suite runs in
    parallel, one worker runs them all, one after the other, so no two of them share a queue.

    pytest-xdist (3.8) groups by appending ``@<group>`` to each test's id in the parallel
    worker, and the controller schedules by that suffix. pytest 9.2 keeps ids in a new field
    that xdist does not write (pytest-xdist#1386), so the grouping silently stopped: two
    crash tests ran at once on one Redis database and took each other's tasks. Hence the pin
    on pytest in pyproject.toml, and this check: a grouped test whose id came back without its
    group fails at once with the reason, instead of at random with another test's tasks."""
    for item in items:
        if item.get_closest_marker("celery_worker"):
            item.add_marker(pytest.mark.xdist_group("celery_worker"))
    result = yield
    if getattr(config.option, "loadgroup", False):  # set in a worker under --dist loadgroup
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid.rpartition("]")[2]:
                item.stash[UNGROUPED] = (
                    f"--dist loadgroup did not group this test: pytest {pytest.__version__} "
                    "with this pytest-xdist ignores xdist_group (pytest-xdist#1386), so it "
                    "could run beside another real-worker test on the same Redis database. "
                    "Install the pytest that pyproject.toml pins, or run with -n 0."
                )
    return result


def pytest_runtest_setup(item):
    if UNGROUPED in item.stash:
        pytest.fail(item.stash[UNGROUPED], pytrace=False)


def _flush_by_delete(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    """A transactional test ends with Django's flush, which on PostgreSQL is one TRUNCATE of
    every table: about 0.6 s here, because TRUNCATE gives each of ~90 tables and their indexes
    new files. A test leaves a few rows, which DELETE removes in about 0.03 s. The tables
    emptied and what follows (post_migrate, the re-seeding below) are unchanged, and Django's
    foreign keys are DEFERRABLE INITIALLY DEFERRED, so the order of the DELETEs does not
    matter inside the flush's one transaction. (Sequence resets and cascades, which no test
    here asks for, keep Django's own statements.)"""
    if reset_sequences or allow_cascade:
        return _truncate_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    return [
        f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
        for table in tables
    ]


_truncate_flush = DatabaseOperations.sql_flush


def pytest_configure(config):
    DatabaseOperations.sql_flush = _flush_by_delete
    # Every Stripe request made in this process is recorded and checked against the SDK's
    # parameter classes (tests/stripe_params.py); see stripe_requests_match_the_sdk.
    STRIPE_REQUESTS.install()


def pytest_unconfigure(config):
    STRIPE_REQUESTS.uninstall()
    DatabaseOperations.sql_flush = _truncate_flush


@pytest.fixture(autouse=True)
def stripe_requests_match_the_sdk(request):
    """Fail the test during which (setup and teardown included) the code sent Stripe a
    parameter the official SDK does not define for that call: localstripe lets such requests
    through, real Stripe answers 400. Checked per test, so the failure names the test that made
    the call whatever the order the tests run in. Calls made by other processes (the crash
    tests' Celery workers) are not seen; the same code paths run in-process elsewhere."""
    STRIPE_REQUESTS.current_test = request.node.nodeid
    mark = STRIPE_REQUESTS.mark()
    yield
    STRIPE_REQUESTS.current_test = ""
    report = STRIPE_REQUESTS.report(STRIPE_REQUESTS.check_since(mark))
    if report:
        pytest.fail(report, pytrace=False)


# What parallel workers (pytest-xdist) recorded, gathered in the controlling process: the
# calls' (service, method, has problems) and the reports of the bad calls no test judged.
WORKER_STRIPE_CALLS: list[tuple[str, str, bool]] = []
WORKER_UNJUDGED: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    output = getattr(node, "workeroutput", {})
    WORKER_STRIPE_CALLS.extend(tuple(call) for call in output.get("stripe_calls", ()))
    if output.get("stripe_unjudged"):
        WORKER_UNJUDGED.append(output["stripe_unjudged"])


def pytest_sessionfinish(session, exitstatus):
    """Backstop: a bad call no test judged (made by a session fixture before the first test,
    or by a thread still running after the last) fails the run too. A parallel worker hands
    its calls to the controlling process, which judges the run."""
    report = STRIPE_REQUESTS.report(STRIPE_REQUESTS.unjudged())
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["stripe_calls"] = [
            (call.service, call.method, bool(call.problems)) for call in STRIPE_REQUESTS
        ]
        workeroutput["stripe_unjudged"] = report
        return
    report = "\n".join(filter(None, [report, *WORKER_UNJUDGED]))
    if report:
        session.config.get_terminal_writer().line("\n" + report, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_login(monkeypatch):
    """``client.force_login(user)`` stands for a login through allauth's forms: the password,
    then, for a user who has TOTP at that moment, the code. allauth records those steps on
    the session and two-factor is checked on the login (accounts.mfa.two_factor_gap), so
    record them here as allauth would. A test that sets up TOTP or gives a role after
    ``force_login`` gets a password-only session, as a person would."""
    original = ClientMixin._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        request = HttpRequest()
        request.session = self.session
        record_authentication(request, user, "password", email=user.email)
        if totp is not None:
            record_authentication(request, user, "mfa", id=totp.pk, type=totp.type)
        request.session.save()

    monkeypatch.setattr(ClientMixin, "_login", _login)


SLOW_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Times the tests marked ``slow`` (setup, call and teardown), for the summary. Under
    pytest-xdist this runs in the controlling process too, with every worker's reports."""
    if "slow" in report.keywords:
        SLOW_SECONDS[report.nodeid] = SLOW_SECONDS.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if SLOW_SECONDS:
        terminalreporter.write_sep("=", f"{len(SLOW_SECONDS)} slow (scale) tests")
        for nodeid, seconds in sorted(SLOW_SECONDS.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:8.2f}s {nodeid}")
    calls = [(c.service, c.method, bool(c.problems)) for c in STRIPE_REQUESTS]
    calls += WORKER_STRIPE_CALLS
    if calls:
        kinds = {(service, method) for service, method, _ in calls}
        bad = sum(1 for *_, problems in calls if problems)
        terminalreporter.write_line(
            f"Stripe requests checked against the SDK: {len(calls)} calls of {len(kinds)} "
            f"kinds, {bad} with unknown parameters"
        )


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
