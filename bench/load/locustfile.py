"""Locust users for bench/load_test.py (run headless by it, one user class per phase).

* ``WebSupporter``: the pages a supporter uses: the slate page, the pledge form (its CSRF token,
  hidden key and digest, the five attestations ticked), the card page, the card confirmed at
  localstripe as its Stripe.js does in the browser, the card confirm POST, the thank-you page.
* ``ApiSupporter``: ``POST /api/v1/pledges`` with a bearer token and an Idempotency-Key, then
  the card saved as above (``card_url``): the pledge counts once committed.
* ``BareInserter``: ``POST /bench/bare-pledge``, the bare view (bench settings only).
* ``AnonymousReader``: the slate page, its widget and its progress fragment, with no cookies.

Each journey is recorded as one ``JOURNEY`` request besides its HTTP requests. At the end
the file named by ``BENCH_RESULT`` gets the journeys (pledge id, start, end, ok), the latency
of every Slate request (localstripe's own are kept apart) and the errors; the config
(``BENCH_CONFIG``) names the slate and gives each user slot its session cookie and token.
"""

import itertools
import json
import os
import re
import time
import uuid
from html.parser import HTMLParser
from http.cookiejar import Cookie
from urllib.parse import urlsplit

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_CONFIG"]) as config_file:
    CONFIG = json.load(config_file)
SLUG = CONFIG["slug"]
SLOTS = itertools.count()
JOURNEYS: list[dict] = []
LATENCIES: dict[str, list[float]] = {"slate": [], "stripe": []}
FAILURES: dict[str, int] = {}
PAGE_CACHE: dict[str, int] = {}  # X-Slate-Page-Cache answers seen by the anonymous readers
CARD = {
    "type": "card",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    "billing_details": {"address": {"postal_code": "10001"}},
}
CLIENT_SECRET_RE = re.compile(
    r'<script id="stripe-client-secret" type="application/json">"([^"]+)"'
)
CARD_URL_RE = re.compile(r"^/pledges/(\d+)/card/$")


class HiddenInputs(HTMLParser):
    """The hidden inputs of the page's first POST form (the CSRF token, keys, digests)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.forms = 0
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self.forms += 1
            self.inside = self.forms == 1 or "csrfmiddlewaretoken" not in self.values
        elif tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.values.setdefault(attributes["name"], attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def session_cookie(host: str, value: str) -> Cookie:
    return Cookie(
        version=0, name="sessionid", value=value, port=None, port_specified=False,
        domain=urlsplit(host).hostname, domain_specified=False, domain_initial_dot=False,
        path="/", path_specified=True, secure=False, expires=None, discard=True, comment=None,
        comment_url=None, rest={"HttpOnly": ""},
    )  # fmt: skip


def hidden_inputs(html: str) -> dict[str, str]:
    parser = HiddenInputs()
    parser.feed(html)
    return parser.values


@events.request.add_listener
def _on_request(request_type, name, response_time, exception, **kwargs):
    if request_type == "JOURNEY":
        return
    kind = "stripe" if name.startswith("localstripe") else "slate"
    LATENCIES[kind].append(response_time)
    if exception is not None:
        key = f"{name}: {str(exception)[:160]}"
        FAILURES[key] = FAILURES.get(key, 0) + 1


@events.quitting.add_listener
def _write_result(environment, **kwargs):
    with open(os.environ["BENCH_RESULT"], "w") as result_file:
        json.dump(
            {"journeys": JOURNEYS, "latencies": LATENCIES, "failures": FAILURES,
             "page_cache": PAGE_CACHE},
            result_file,
        )  # fmt: skip


class Journey:
    """One pledge (or one read): timed, recorded, failed at the first unexpected answer."""

    def __init__(self, user, name: str) -> None:
        self.user, self.name = user, name

    def __enter__(self):
        self.start = time.time()
        self.pledge_id = None
        return self

    def __exit__(self, exc_type, exc, tb):
        end = time.time()
        ok = exc_type is None
        JOURNEYS.append({"pledge": self.pledge_id, "start": self.start, "end": end, "ok": ok})
        self.user.environment.events.request.fire(
            request_type="JOURNEY", name=self.name, response_time=(end - self.start) * 1000,
            response_length=0, exception=exc if not ok else None, context={},
        )  # fmt: skip
        return exc_type is JourneyFailed  # recorded; the user goes on with the next one


class JourneyFailed(Exception):
    pass


def expect(response, status: int, what: str):
    if response.status_code != status:
        response.failure(f"{response.status_code} instead of {status}")
        raise JourneyFailed(f"{what}: {response.status_code}")
    response.success()
    return response


class Supporter(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        slot = next(SLOTS)
        if slot >= len(CONFIG["supporters"]):
            raise StopUser()
        self.me = CONFIG["supporters"][slot]
        self.sent = 0
        # Logged in already (bench/load_test.py made the session): the browser's cookie.
        self.client.cookiejar.clear()
        self.client.cookiejar.set_cookie(session_cookie(self.host, self.me["session"]))

    def get(self, path: str, name: str):
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            return expect(response, 200, name)

    def post_form(self, path: str, data: dict, name: str):
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            expect(response, 302, name)
            return response.headers["Location"]

    def amount_cents(self) -> int:
        self.sent += 1
        return 100 + (self.sent % 5) * 100  # $1 to $5: far below any limit or disclosure

    def save_card(self, pledge_id: int) -> None:
        """The card page, localstripe's Stripe.js confirming the SetupIntent, the confirm POST
        and the thank-you page it sends the supporter to."""
        card_path = f"/pledges/{pledge_id}/card/"
        card = self.get(card_path, "card page")
        secret = CLIENT_SECRET_RE.search(card.text)
        if secret is None:
            raise JourneyFailed("card page without a client secret")
        client_secret = secret.group(1)
        setup_intent = client_secret.split("_secret_")[0]
        with self.client.post(
            f"{CONFIG['stripe_url']}/v1/setup_intents/{setup_intent}/confirm",
            data=json.dumps({"key": CONFIG["publishable_key"], "use_stripe_sdk": True,
                             "client_secret": client_secret, "payment_method_data": CARD}),
            name="localstripe: confirm SetupIntent (Stripe.js)", catch_response=True,
        ) as response:  # fmt: skip
            expect(response, 200, "localstripe confirm")
            if response.json().get("status") != "succeeded":
                response.failure(f"SetupIntent {response.json().get('status')}")
                raise JourneyFailed("SetupIntent not succeeded")
        token = hidden_inputs(card.text)["csrfmiddlewaretoken"]
        thanks = self.post_form(
            f"{card_path}confirm/", {"csrfmiddlewaretoken": token}, "card confirm POST"
        )
        if not thanks.endswith(f"/slates/{SLUG}/thanks/"):
            raise JourneyFailed(f"card confirm sent the supporter to {thanks}")
        self.get(thanks, "thank-you page")


class WebSupporter(Supporter):
    @task
    def pledge_through_the_pages(self) -> None:
        with Journey(self, "web pledge (whole journey)") as journey:
            self.get(f"/slates/{SLUG}/", "slate page (logged in)")
            form = self.get(f"/slates/{SLUG}/pledge/", "pledge form")
            fields = hidden_inputs(form.text)
            fields.update(dict.fromkeys(CONFIG["attestations"], "on"))
            fields.update(
                amount=f"{self.amount_cents() / 100:.2f}", supporter_state="NY",
                condition_min_signatures="",
            )  # fmt: skip
            card_path = self.post_form(f"/slates/{SLUG}/pledge/", fields, "pledge form POST")
            match = CARD_URL_RE.match(card_path)
            if match is None:
                raise JourneyFailed(f"pledge form sent the supporter to {card_path}")
            journey.pledge_id = int(match.group(1))
            self.save_card(journey.pledge_id)


class ApiSupporter(Supporter):
    @task
    def pledge_through_the_api(self) -> None:
        with Journey(self, "API pledge (whole journey)") as journey:
            body = {
                "slate": SLUG, "kind": "money", "amount_cents": self.amount_cents(),
                "supporter_state": "NY",
                "attestations": dict.fromkeys(CONFIG["attestations"], True),
            }  # fmt: skip
            with self.client.post(
                "/api/v1/pledges", json=body, name="POST /api/v1/pledges", catch_response=True,
                headers={"Authorization": f"Bearer {self.me['token']}",
                         "Idempotency-Key": uuid.uuid4().hex},
            ) as response:  # fmt: skip
                expect(response, 201, "POST /api/v1/pledges")
                journey.pledge_id = response.json()["id"]
            self.save_card(journey.pledge_id)


class BareInserter(Supporter):
    @task
    def insert(self) -> None:
        with Journey(self, "bare insert") as journey:
            data = {"slate": CONFIG["slate_id"], "amount_cents": self.amount_cents(),
                    "supporter_state": "NY", "idempotency_key": uuid.uuid4().hex}  # fmt: skip
            with self.client.post(
                "/bench/bare-pledge", data=data, name="bare view POST", catch_response=True
            ) as response:
                expect(response, 201, "bare view")
                journey.pledge_id = response.json()["id"]


class AnonymousReader(FastHttpUser):
    """A visitor from a shared link: no cookie, no login; reads what everyone reads."""

    wait_time = constant(0)
    PAGES = (
        ("/slates/{slug}/", "slate page (anonymous)"),
        ("/embed/slates/{slug}/", "widget"),
        ("/slates/{slug}/progress/", "progress fragment"),
    )

    @task
    def read(self) -> None:
        for path, name in self.PAGES:
            self.client.cookiejar.clear()
            with (
                Journey(self, "read"),
                self.client.get(path.format(slug=SLUG), name=name, catch_response=True) as response,
            ):
                expect(response, 200, name)
                answer = response.headers.get("X-Slate-Page-Cache") or "not cached"
                PAGE_CACHE[answer] = PAGE_CACHE.get(answer, 0) + 1
