"""`make screenshots`: the main pages at desktop and phone widths, saved to docs/screenshots/.

Seeds the demo into a throw-away SQLite database against a throw-away local fake Stripe (so
the demo's released slate is there, released through the fake Stripe as in `make run`),
starts the web server on a free port, and drives Debian's Chromium through Playwright: home,
all slates, slate, the released slate's results, sign on, thank you, pledge (step 1),
candidate home, the candidate's public page and the ask, organizer and partner dashboards, the
embeddable widget, and the log-in page. Demo logins in two-factor roles pass
that step with the published demo secret, like a person would.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "slate-demo"  # noqa: S105 - the published demo password


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, **kwargs):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, **kwargs
    )


def wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the web server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise SystemExit(f"no answer from {url}") from None
            time.sleep(0.3)


def start_fake_stripe(folder: str) -> tuple[subprocess.Popen, str]:
    """localstripe through our launcher (as `make run` and the tests start it), in memory, on
    a port the system picks. Returns the process and its address."""
    port_file = Path(folder) / "fake-stripe-port"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "escrow.devstripe", "--port", "0", "--port-file", str(port_file),
         "--store", "none", "--from-scratch"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the fake Stripe did not start")
        time.sleep(0.1)
    url = f"http://127.0.0.1:{port_file.read_text().strip()}"
    wait_for(url + "/js.stripe.com/v3/", process)
    return process, url


def log_in(page, base: str, email: str, totp_code) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/2fa/authenticate/" in page.url:
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Sign In").click()
    try:
        page.wait_for_url(base + "/", timeout=15_000)
    except Exception:
        problem = f"could not log in as {email}: at {page.url}\n{page.inner_text('main')}"
        raise SystemExit(problem) from None


def shoot(
    browser, base: str, slug: str, released_slug: str, org_slug: str, totp_code
) -> list[Path]:
    shots = [
        ("home", None, "/"),
        ("all-slates", None, "/slates/"),
        ("slate", None, f"/slates/{slug}/"),
        ("released-slate", None, f"/slates/{released_slug}/"),
        ("sign-on", None, f"/slates/{slug}/sign-on/"),
        ("thank-you", "supporter@slate.test", f"/slates/{slug}/thanks/"),
        ("widget", None, f"/embed/slates/{slug}/"),
        ("log-in", None, "/accounts/login/"),
        ("pledge", "supporter@slate.test", f"/slates/{slug}/pledge/"),
        ("candidate-home", "candidate@slate.test", "/candidate/"),
        ("organizer-dashboard", "organizer@slate.test", f"/organize/slates/{slug}/"),
        ("partner-dashboard", "union@slate.test", f"/orgs/{org_slug}/dashboard/"),
        # Pages whose address holds a database id: reached by following links, as people do.
        ("candidate-page", None, (f"/slates/{slug}/", "Walt Brennan")),
        ("ask", "supporter@slate.test", (f"/slates/{slug}/", "Walt Brennan", "Ask them to sign")),
    ]
    # Each person logs in once (a two-factor code is good only once); both widths reuse it.
    sessions = {}
    for login in {login for _, login, _ in shots if login}:
        context = browser.new_context()
        log_in(context.new_page(), base, login, totp_code)
        sessions[login] = context.storage_state()
        context.close()
    saved = []
    for size, viewport in WIDTHS.items():
        for name, login, path in shots:
            context = browser.new_context(viewport=viewport, storage_state=sessions.get(login))
            page = context.new_page()
            start, *links = (path,) if isinstance(path, str) else path
            page.goto(base + start)
            for link in links:
                page.get_by_role("link", name=link, exact=True).first.click()
                page.wait_for_load_state()
            page.wait_for_load_state("networkidle")
            target = OUT / f"{name}-{size}.png"
            page.screenshot(path=str(target), full_page=name != "widget")
            saved.append(target)
            context.close()
    return saved


def seed_and_shoot(env: dict) -> list[Path]:
    # This process needs Django too: the demo's slugs and its two-factor codes.
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from demo.released import RELEASED_SLATE_SLUG
    from demo.story import DEMO_SLATE_SLUG
    from demo.totp import demo_totp_code
    from slate.models import PartnerOrganization, Slate

    manage(env, "migrate", "--verbosity", "0")
    manage(env, "seed_demo", "--verbosity", "0")
    if not Slate.objects.filter(slug=RELEASED_SLATE_SLUG, state="released").exists():
        raise SystemExit("the demo's released slate was not released: see seed_demo's output")
    org_slug = PartnerOrganization.objects.get(admins__email="union@slate.test").slug
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(base + "/healthz", server)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            saved = shoot(
                browser, base, DEMO_SLATE_SLUG, RELEASED_SLATE_SLUG, org_slug, demo_totp_code
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return saved


def main() -> None:
    if not shutil.which(CHROMIUM):
        raise SystemExit(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slate-shots-") as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "slate.settings",
            "SLATE_ENV": "development",
            "SLATE_VAR_DIR": folder,
            "DATABASE_URL": f"sqlite:///{folder}/shots.sqlite3",
            "CELERY_BROKER_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        fake_stripe, stripe_url = start_fake_stripe(folder)
        try:
            env.update(
                {
                    "STRIPE_API_BASE": stripe_url,
                    "STRIPE_SECRET_KEY": "sk_test_slate_shots",
                    "STRIPE_PUBLISHABLE_KEY": "pk_test_slate_shots",
                    "STRIPE_WEBHOOK_SECRET": "whsec_slate_shots",
                }
            )
            saved = seed_and_shoot(env)
        finally:
            fake_stripe.terminate()
            fake_stripe.wait(timeout=10)
    for path in saved:
        print(path.relative_to(REPO))


if __name__ == "__main__":
    main()
