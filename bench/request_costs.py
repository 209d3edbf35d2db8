"""Benchmark: what each request of a supporter's pledge costs, in numbers a busy machine does
not distort: database queries and CPU milliseconds of this process (``time.process_time``)
per request, for the web journey and the API path that bench/load_test.py drives with Locust.

The requests go through Django's test client in this one process (the full middleware stack,
sessions, templates; no HTTP server), against a scratch PostgreSQL database and a localstripe
of our own (in memory, as the load test's). Tasks the requests queue are recorded, not run, as
with a real worker (their cost is the worker's; the load test counts it). The Stripe calls
are real HTTP round trips to localstripe: their wall time is not CPU of this process, but the
Stripe library's own work is. localstripe's own CPU per journey is shown beside.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/slate \\
        .venv/bin/python bench/request_costs.py [--journeys 30] [--profile "card page"]

``--journeys`` pledges per path (default 30, about half a minute); the first few are warm-up
and not counted. ``--profile NAME`` prints cProfile's top functions for that request, ``--sql
NAME`` its queries.
``BENCH_DATABASE`` names the scratch database (default slate_bench_request_costs);
``BENCH_REDIS_URL``, when set, puts the cache on that Redis database as in production
(otherwise the process-memory cache).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _setup

PUBLISHABLE_KEY = "pk_test_bench"
SECRET_KEY = "sk_test_bench"  # noqa: S105 - localstripe takes any key
WARM_UP = 3
CLIENT_SECRET_RE = re.compile(
    r'<script id="stripe-client-secret" type="application/json">"([^"]+)"'
)
CARD = {
    "type": "card",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    "billing_details": {"address": {"postal_code": "10001"}},
}


class HiddenInputs(HTMLParser):
    """The hidden inputs of a page (the CSRF token, keys, digests), first value of each name."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.values.setdefault(attributes["name"], attributes.get("value") or "")


def hidden_inputs(html: str) -> dict[str, str]:
    parser = HiddenInputs()
    parser.feed(html)
    return parser.values


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU of another process (localstripe), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Queries and CPU time per named request; cProfile for one of them on request."""

    def __init__(self, profile: str | None) -> None:
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.cpu_ms: dict[str, list[float]] = defaultdict(list)
        self.profile_name = profile
        self.profiler = cProfile.Profile() if profile else None
        self.counting = False
        self.last_sql: dict[str, list[str]] = {}

    def measure(self, name: str, call):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        profiling = self.counting and self.profiler is not None and name == self.profile_name
        with CaptureQueriesContext(connection) as captured:
            if profiling:
                self.profiler.enable()
            start = time.process_time()
            response = call()
            cpu = time.process_time() - start
            if profiling:
                self.profiler.disable()
        if self.counting:
            self.last_sql[name] = [query["sql"] for query in captured.captured_queries]
            self.queries[name].append(len(captured.captured_queries))
            self.cpu_ms[name].append(cpu * 1000)
        return response


def expect(response, status: int, what: str):
    if response.status_code != status:
        raise SystemExit(f"{what}: {response.status_code} instead of {status}")
    return response


def confirm_at_localstripe(stripe_url: str, card_html: str) -> None:
    """What Stripe.js does in the browser: confirm the SetupIntent with the card."""
    match = CLIENT_SECRET_RE.search(card_html)
    if match is None:
        raise SystemExit("card page without a client secret")
    client_secret = match.group(1)
    setup_intent = client_secret.split("_secret_")[0]
    body = json.dumps({"key": PUBLISHABLE_KEY, "use_stripe_sdk": True,
                       "client_secret": client_secret, "payment_method_data": CARD})  # fmt: skip
    request = urllib.request.Request(  # noqa: S310 - localstripe's URL, ours
        f"{stripe_url}/v1/setup_intents/{setup_intent}/confirm", data=body.encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - localstripe
        if json.loads(response.read()).get("status") != "succeeded":
            raise SystemExit("SetupIntent not succeeded")


def save_card(client, meter: Meter, pledge_id: int, stripe_url: str, slug: str) -> None:
    card = meter.measure("card page", lambda: client.get(f"/pledges/{pledge_id}/card/"))
    html = expect(card, 200, "card page").content.decode()
    confirm_at_localstripe(stripe_url, html)
    token = hidden_inputs(html)["csrfmiddlewaretoken"]
    confirmed = meter.measure(
        "card confirm POST",
        lambda: client.post(f"/pledges/{pledge_id}/card/confirm/", {"csrfmiddlewaretoken": token}),
    )
    thanks = expect(confirmed, 302, "card confirm POST")["Location"]
    if not thanks.endswith(f"/slates/{slug}/thanks/"):
        raise SystemExit(f"card confirm sent the supporter to {thanks}")
    expect(meter.measure("thank-you page", lambda: client.get(thanks)), 200, "thank-you page")


def web_journey(client, meter: Meter, slug: str, amount: str, attestations, stripe_url: str):
    from pledges.models import Pledge

    expect(meter.measure("slate page", lambda: client.get(f"/slates/{slug}/")), 200, "slate")
    form = meter.measure("pledge form", lambda: client.get(f"/slates/{slug}/pledge/"))
    fields = hidden_inputs(expect(form, 200, "pledge form").content.decode())
    fields.update(dict.fromkeys(attestations, "on"))
    fields.update(amount=amount, supporter_state="NY", condition_min_signatures="")
    posted = meter.measure(
        "pledge form POST", lambda: client.post(f"/slates/{slug}/pledge/", fields)
    )
    card_path = expect(posted, 302, "pledge form POST")["Location"]
    pledge_id = int(re.match(r"^/pledges/(\d+)/card/$", card_path).group(1))
    save_card(client, meter, pledge_id, stripe_url, slug)
    return Pledge.objects.get(pk=pledge_id)


def api_journey(client, meter: Meter, slug: str, cents: int, attestations, token, stripe_url):
    from pledges.models import Pledge

    body = {"slate": slug, "kind": "money", "amount_cents": cents, "supporter_state": "NY",
            "attestations": dict.fromkeys(attestations, True)}  # fmt: skip
    created = meter.measure(
        "POST /api/v1/pledges",
        lambda: client.post(
            "/api/v1/pledges",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        ),
    )
    pledge_id = expect(created, 201, "POST /api/v1/pledges").json()["id"]
    save_card(client, meter, pledge_id, stripe_url, slug)
    return Pledge.objects.get(pk=pledge_id)


def run(args, stripe_url: str, stripe_pid: int) -> None:
    from django.test import Client

    from api import services as api_services
    from pledges.declarations import ATTESTATION_NAMES
    from pledges.states import PledgeState
    from slate import queue

    queued: list[str] = []
    # A worker would run these after the request; here they are only recorded.
    queue._send = lambda task, task_args: queued.append(task.name)
    attestations = list(ATTESTATION_NAMES)
    for path in ("web", "api"):
        meter = Meter(args.profile)
        slate = _setup.make_open_slate(candidates=3, min_signatures=3, min_money_cents=10**9)
        [supporter] = _setup.make_users(1, f"{path}-supporter")
        supporter.email = f"{supporter.username}@bench.example"
        supporter.save(update_fields=["email"])
        client = Client()
        client.force_login(supporter)
        token = None
        if path == "api":
            _, token = api_services.create_token(user=supporter, name="request costs")
        stripe_cpu = 0.0
        for index in range(args.journeys):
            meter.counting = index >= WARM_UP
            stripe_before = cpu_seconds_of(stripe_pid)
            cents = 100 + (index % 5) * 100
            if path == "web":
                pledge = web_journey(client, meter, slate.slug, f"{cents / 100:.2f}",
                                     attestations, stripe_url)  # fmt: skip
            else:
                pledge = api_journey(client, meter, slate.slug, cents, attestations, token,
                                     stripe_url)  # fmt: skip
            if pledge.state != PledgeState.COMMITTED:
                raise SystemExit(f"pledge {pledge.pk} is {pledge.state}, not committed")
            if meter.counting:
                stripe_cpu += cpu_seconds_of(stripe_pid) - stripe_before
        counted = args.journeys - WARM_UP
        print(f"\n{path} path, {counted} pledges (after {WARM_UP} warm-up):")
        print(f"  {'request':<24} {'queries':>8} {'CPU ms (median)':>16} {'CPU ms (mean)':>14}")
        total_queries = total_cpu = 0.0
        for name, counts in meter.queries.items():
            cpus = sorted(meter.cpu_ms[name])
            mean_queries = sum(counts) / len(counts)
            mean_cpu = sum(cpus) / len(cpus)
            total_queries += mean_queries
            total_cpu += mean_cpu
            median = cpus[len(cpus) // 2]
            print(f"  {name:<24} {mean_queries:>8.1f} {median:>16.1f} {mean_cpu:>14.1f}")
        print(f"  {'journey':<24} {total_queries:>8.1f} {'':>16} {total_cpu:>14.1f}")
        print(f"  localstripe CPU per journey: {stripe_cpu / counted * 1000:.1f} ms")
        print(f"  tasks queued per journey: {len(queued) / args.journeys:.1f}")
        queued.clear()
        for name in args.sql.split(",") if args.sql else ():
            print(f"  queries of {name}:")
            for number, sql in enumerate(meter.last_sql.get(name, ()), 1):
                print(f"  {number:>3}. {sql[: args.sql_width]}")
        if meter.profiler is not None and args.profile in meter.queries:
            stream = io.StringIO()
            stats = pstats.Stats(meter.profiler, stream=stream)
            stats.sort_stats("cumulative").print_stats(args.profile_lines)
            print(stream.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=30, help="pledges per path")
    parser.add_argument("--profile", help="cProfile this request (e.g. 'slate page')")
    parser.add_argument("--profile-lines", type=int, default=45)
    parser.add_argument("--sql", help="list these requests' queries (comma-separated; last call)")
    parser.add_argument("--sql-width", type=int, default=160)
    args = parser.parse_args()
    if args.journeys <= WARM_UP:
        parser.error(f"--journeys must be more than the {WARM_UP} warm-up journeys")
    port = free_port()
    stripe_url = f"http://127.0.0.1:{port}"
    stripe = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(_setup.REPO_ROOT / "bench" / "load" / "fake_stripe.py"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{stripe_url}/js.stripe.com/v3/", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or stripe.poll() is not None:
                    raise SystemExit("localstripe did not start") from None
                time.sleep(0.2)
        os.environ.update(
            STRIPE_API_BASE=stripe_url, STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET="whsec_bench",  # noqa: S106
            ALLOWED_HOSTS="testserver", SLATE_ENV="development",
            SLATE_API_WRITE_RATE_USER="100000/min", SLATE_API_WRITE_RATE_IP="1000000/min",
        )  # fmt: skip
        if os.environ.get("BENCH_REDIS_URL"):
            os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
        name = os.environ.get("BENCH_DATABASE", "slate_bench_request_costs")
        with _setup.bench_database(name):
            run(args, stripe_url, stripe.pid)
    finally:
        stripe.terminate()
        stripe.wait(timeout=10)


if __name__ == "__main__":
    main()
