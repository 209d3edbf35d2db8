import importlib

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.http import HttpRequest
from django.test.client import ClientMixin
from pytest_django.plugin import blocking_manager_key

from slate import events
from tests.stripe_params import RECORDER as STRIPE_REQUESTS

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


def pytest_configure(config):
    # Every Stripe request made in this process is recorded and checked against the SDK's
    # parameter classes (tests/stripe_params.py); see stripe_requests_match_the_sdk.
    STRIPE_REQUESTS.install()


def pytest_unconfigure(config):
    STRIPE_REQUESTS.uninstall()


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


def pytest_sessionfinish(session, exitstatus):
    """Backstop: a bad call no test judged (made by a session fixture before the first test,
    or by a thread still running after the last) fails the run too."""
    report = STRIPE_REQUESTS.report(STRIPE_REQUESTS.unjudged())
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


def pytest_terminal_summary(terminalreporter):
    calls = list(STRIPE_REQUESTS)
    if calls:
        kinds = {(call.service, call.method) for call in calls}
        bad = sum(1 for call in calls if call.problems)
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
