"""`make run`: migrate, seed the demo, then run the web server and a Celery worker with beat.

Needs nothing but Python: with the default settings the database is SQLite and the broker a
folder, both under ``var/`` (or ``SLATE_VAR_DIR``). Ctrl-C, SIGTERM or the exit of either child
stops both.

Each child runs in a process group of its own and is stopped by signalling that whole group:
``celery worker -B`` runs beat as a separate (grand)child process, which would otherwise
outlive a worker that crashed. The terminal's Ctrl-C therefore reaches only this command,
which stops the children in order (SIGTERM to each group, up to 10 s, then SIGKILL).
"""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

HEALTH_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
DEMO_SLATE_PATH = "/slates/2026-coordinated-slate/"


class Command(BaseCommand):
    help = "Run Slate for development: migrate, seed demo data, web server and Celery worker."
    requires_system_checks = []  # the children run the checks; migrate runs them here

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Web server port (8000).")
        parser.add_argument(
            "--stripe-port",
            type=int,
            default=8420,
            help="Port of the local fake Stripe, started when STRIPE_SECRET_KEY is unset (8420).",
        )

    def handle(self, *args, port: int, stripe_port: int, **options):
        self.stop_requested = threading.Event()
        self.children: list[tuple[str, subprocess.Popen]] = []

        call_command("migrate", interactive=False, verbosity=1)
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        failure = None
        try:
            # A fake-stripe file left by an earlier run that did not stop cleanly is no key.
            if not settings.STRIPE_SECRET_KEY or settings.STRIPE_FROM_FAKE_STRIPE_FILE:
                failure = self._start_fake_stripe(stripe_port, port)
            if failure is None:
                # seed_demo lives in the demo app, on top of every other: call it by name.
                seed_output = io.StringIO()
                call_command("seed_demo", stdout=seed_output)
                self.stdout.write(seed_output.getvalue().rstrip())
                self.stdout.flush()
                self._start_children(port)
                failure = self._wait_until_serving(port)
            if failure is None and not self.stop_requested.is_set():
                self._print_banner(port, seed_output.getvalue())
                failure = self._watch()
        finally:
            self._stop_children()
            if getattr(self, "fake_stripe_url", None):
                Path(settings.FAKE_STRIPE_FILE).unlink(missing_ok=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if failure:
            raise CommandError(f"{failure}; stopped everything.")
        self.stdout.write("Stopped.")

    # --- The local fake Stripe ---

    def _start_fake_stripe(self, stripe_port: int, web_port: int) -> str | None:
        """Start localstripe, point this process and the children at it, and register the
        web server's webhook endpoint with it."""
        base = f"http://127.0.0.1:{stripe_port}"
        store = Path(settings.VAR_DIR) / "localstripe.pickle"
        command = [sys.executable, "-m", "escrow.devstripe", "--port", str(stripe_port),
                   "--store", str(store)]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            process_group=0, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.children.append(("fake Stripe (localstripe)", process))
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                code = process.returncode
                return f"The fake Stripe exited with code {code} (is port {stripe_port} busy?)"
            try:
                with urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=2):  # noqa: S310
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    return f"The fake Stripe did not answer at {base}"
                time.sleep(0.25)
        values = {
            "STRIPE_API_BASE": base,
            "STRIPE_SECRET_KEY": "sk_test_slate_dev",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_slate_dev",
            "STRIPE_WEBHOOK_SECRET": "whsec_slate_dev",
        }
        os.environ.update(values)  # inherited by the web server and the worker
        for name, value in values.items():
            setattr(settings, name, value)
        form = urllib.parse.urlencode(
            {
                "url": f"http://127.0.0.1:{web_port}/stripe/webhook/",
                "secret": values["STRIPE_WEBHOOK_SECRET"],
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            f"{base}/_config/webhooks/slate-dev", data=form, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
            pass
        self.fake_stripe_url = base
        # For commands run beside this one (reconcile in a second terminal): see settings.
        fake_stripe_file = Path(settings.FAKE_STRIPE_FILE)
        fake_stripe_file.parent.mkdir(parents=True, exist_ok=True)
        fake_stripe_file.write_text(json.dumps(values, indent=2) + "\n")
        return None

    # --- Children ---

    def _on_signal(self, signum, frame) -> None:
        if self.stop_requested.is_set():  # a second Ctrl-C: no more waiting
            for _, process in self.children:
                _signal_group(process.pid, signal.SIGKILL)
        self.stop_requested.set()

    def _start_children(self, port: int) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "slate.settings")
        base_dir = Path(settings.BASE_DIR)
        commands = [
            (
                "web server",
                [
                    sys.executable,
                    str(base_dir / "manage.py"),
                    "runserver",
                    f"127.0.0.1:{port}",
                    "--noreload",
                ],
            ),
            (
                "celery worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "slate",
                    "worker",
                    "-B",
                    "-l",
                    "info",
                    "--pool=solo",
                    "--schedule",
                    str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
                ],
            ),
        ]
        for name, command in commands:
            process = subprocess.Popen(command, cwd=base_dir, env=env, process_group=0)  # noqa: S603
            self.children.append((name, process))

    def _exited_child(self) -> str | None:
        for name, process in self.children:
            code = process.poll()
            if code is not None:
                return f"The {name} exited with code {code}"
        return None

    def _wait_until_serving(self, port: int) -> str | None:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while not self.stop_requested.is_set():
            exited = self._exited_child()
            if exited:
                return exited
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return None
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                return f"The web server did not answer {url} within {HEALTH_TIMEOUT_SECONDS} s"
            self.stop_requested.wait(0.25)
        return None

    def _watch(self) -> str | None:
        while not self.stop_requested.wait(0.5):
            exited = self._exited_child()
            if exited:
                return exited
        return None

    def _stop_children(self) -> None:
        """SIGTERM every child's process group, wait up to 10 s for them to empty, then SIGKILL."""
        for _, process in self.children:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for _, process in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            while _group_alive(process.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        for _, process in self.children:
            if _group_alive(process.pid):
                _signal_group(process.pid, signal.SIGKILL)
            process.wait()

    # --- Banner ---

    def _print_banner(self, port: int, seed_output: str) -> None:
        base = f"http://127.0.0.1:{port}"
        logins = seed_output[seed_output.find("Demo logins:") :].strip()
        rule = "=" * 72
        lines = [
            "",
            rule,
            f"  Slate is running at {base}/",
            f"  Admin:        {base}/admin/",
            f"  Demo slate:   {base}{DEMO_SLATE_PATH}",
            *(
                [f"  Fake Stripe:  {self.fake_stripe_url} (test card 4242 4242 4242 4242)"]
                if getattr(self, "fake_stripe_url", None)
                else []
            ),
            "",
            *(f"  {line}" for line in logins.splitlines()),
            "",
            "  Press Ctrl-C to stop the web server and the Celery worker.",
            rule,
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
