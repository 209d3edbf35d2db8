"""Browser tests: Playwright driving Debian's headless Chromium against the live server."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# in that thread are ordinary blocking calls, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium and chromium-driver "
            "(make test does this when run as root)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Every page a browser test opens reports what the Content-Security-Policy blocked: the
# securitypolicyviolation event (added before any page script runs; Playwright's init scripts
# are not subject to the page's policy) and Chromium's own "Refused to …" console errors.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI} ` +
                `at ${event.documentURI}`);
});
"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation") or "Content Security Policy" in text


@pytest.fixture
def csp_violations():
    """What the policy blocked on any page of the test. A test that provokes a violation on
    purpose (framing a page that refuses it) takes it out of the list."""
    found: list[str] = []
    yield found
    assert found == [], f"pages logged Content-Security-Policy violations: {found}"


@pytest.fixture
def new_page(browser, csp_violations):
    """Pages in fresh browser contexts (separate cookies: separate people), phone-sized."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                csp_violations.append(message.text) if is_csp_violation(message.text) else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def enter_totp_code(page, user) -> None:
    """The two-factor step of logging in, with the code an authenticator app would show for
    ``TEST_TOTP_SECRET``. allauth refuses a code used twice; a test logging the same person in
    twice within one 30-second step forgets the first use, as a new step would."""
    from django.core.cache import cache

    from tests.factories import current_totp_code

    code = current_totp_code()
    cache.delete(f"allauth.mfa.totp.used?user={user.pk}&code={code}")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign In").click()


@pytest.fixture
def log_in(live_server):
    """Log a browser page in through the real login page (and its two-factor step, for
    people who have an authenticator)."""
    from allauth.mfa.models import Authenticator

    def log_in_as(page, user, password="pw-for-tests"):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            page.wait_for_url("**/accounts/2fa/authenticate/")
            enter_totp_code(page, user)
        page.wait_for_url(live_server.url + "/")

    return log_in_as
