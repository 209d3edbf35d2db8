"""No address answers 500, whoever asks and however malformed the request (issue 15, item 6).

Every URL comes from the resolver (a page added tomorrow is swept too). Each is requested as
every role of the permission matrix (tests/accounts/test_permissions.py): a GET with the right
path values and every query parameter the views read set to a malformed value; a GET with its
path values malformed (when the URL converters let the value through to a view); and, where
the page let that role in, a POST whose form fields (every field of every form in the apps)
carry the malformed value. Roles and malformed values rotate together, so for each URL every
role asks and every malformed value is tried: about 2,300 requests (the admin: staff only, on
its index, app and list and add pages), not the full product, which would take minutes.
"""

import importlib
import re
from urllib.parse import quote, unquote, urlencode

import pytest
from django import forms
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.accounts.test_permissions import ROLES, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

# The malformed values: as many as there are roles, so each URL meets each value once.
MALFORMED = (
    "a b",  # a space: ?org=a%20b once reversed a URL that cannot hold it
    "a\x00b",  # PostgreSQL refuses NUL in text
    "x" * 10_000,  # 10 kB
    "abc",  # a word where a number is expected (?disable=abc)
    "9" * 30,  # a number no integer column holds
    "-1",
    "ünïcode ✓",
    "' OR 1=1 --",
    "%zz/../..",
    "",
)
assert len(MALFORMED) == len(ROLES)

# Query parameters some view reads (request.GET / query_params), and the API's shared ones.
QUERY_KEYS = (
    "org", "disable", "slate", "mode", "next", "page", "cursor", "page_size", "ordering",
    "state", "status", "kind", "q", "o", "p", "e", "all", "format",
)  # fmt: skip

OUR_APPS = (
    "slate", "candidates", "pledges", "escrow", "organizing", "accounts", "compliance", "api",
    "volunteers",
)  # fmt: skip
# The admin's own pages: its index, each app's page and each model's list and add forms
# (its change forms answer a malformed id with a redirect and a message).
ADMIN_PAGES = ("admin:index", "admin:app_list", "_changelist", "_add")
# Stripe's endpoint verifies a signature before anything else (tests/escrow/test_webhooks.py).
NOT_SWEPT = {"escrow:stripe-webhook"}


def _walk(patterns, namespaces, route):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield ":".join([*namespaces, pattern.name]), route + str(pattern.pattern)


def routes() -> dict[str, str]:
    """Every named URL and its route, admin included."""
    found = {}
    for name, route in _walk(get_resolver().url_patterns, [], ""):
        if name not in NOT_SWEPT:
            found.setdefault(name, route)
    return found


def form_field_names() -> list[str]:
    """The fields of every form our apps define: what a POST to any page might be read as."""
    names = set()
    for app in OUR_APPS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm):
                names.update(value.base_fields)
    return sorted(names)


ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def url_for(name: str, route: str, values: dict, malformed: str | None = None) -> str | None:
    """``name`` reversed with ``values``; with ``malformed``, the route's own text with every
    path value replaced by it (the resolver then decides: a 404, or the view gets it)."""
    names = [m.group(2) or m.group(3) for m in ARGUMENT.finditer(route)]
    if malformed is None:
        try:
            return reverse(name, kwargs={key: values[key] for key in names})
        except Exception:  # an argument whose shape we cannot guess (admin's app labels)
            return None
    if not names:
        return None
    path = ARGUMENT.sub(quote(malformed, safe="") or "-", route)
    return "/" + path.replace("^", "").replace("$", "")


def reaches_a_view(path: str) -> bool:
    """A malformed value the URL converters refuse never reaches a view: Django answers 404
    itself (its page is tests/slate/test_error_pages.py's), so the sweep spends no request on
    it."""
    try:
        resolve(unquote(path))
    except Resolver404:
        return False
    return True


def test_no_request_answers_500(world):  # noqa: F811
    people, arguments = world
    values = {
        **arguments,
        "slate_slug": arguments["slug"],
        "number": 1,
        "key": "not-a-key",
        "uidb36": "1",
        "object_id": "1",
        "content_type_id": 1,
        "app_label": "escrow",
    }
    fields = form_field_names()
    clients = {}
    for role, person in people.items():
        clients[role] = Client(raise_request_exception=False)
        if person is not None:
            clients[role].force_login(person)
    failures, unreachable, sent = [], [], 0
    for index, (name, route) in enumerate(sorted(routes().items())):
        good = url_for(name, route, values)
        if good is None:
            unreachable.append(name)
        admin = name.startswith("admin:")
        if admin and not name.endswith(ADMIN_PAGES):
            continue
        for offset, role in enumerate(ROLES):
            if admin and role != "staff":
                continue  # the admin shows everyone else its login page
            bad = MALFORMED[(index + offset) % len(MALFORMED)]
            client = clients[role]

            def ask(method, url, data=None, *, name=name, role=role, bad=bad, client=client):
                response = client.generic(method, url) if data is None else client.post(url, data)
                if response.status_code >= 500:
                    error = getattr(response, "exc_info", None)
                    why = repr(error[1])[:200] if error else response.status_code
                    failures.append(f"{method} {name} as {role} with {bad[:20]!r}: {why}")
                return response

            bad_path = url_for(name, route, values, malformed=bad)
            if bad_path is not None and reaches_a_view(bad_path):
                ask("GET", bad_path)
                sent += 1
            if good is None:
                continue
            answer = ask("GET", f"{good}?{urlencode(dict.fromkeys(QUERY_KEYS, bad))}")
            sent += 1
            # A form is posted where the page let this role in (a refusal is the same for
            # both methods); the API's bodies are swept by tests/api/test_fuzz.py.
            let_in = answer.status_code < 400 and not answer.get("Location", "").startswith(
                "/accounts/login/"
            )
            if (let_in or answer.status_code == 405) and not name.startswith(("api:v1", "admin:")):
                ask("POST", good, dict.fromkeys(fields, bad))
                sent += 1
            if people[role] is not None and client.session.get("_auth_user_id") is None:
                client.force_login(people[role])  # a POST logged it out: log in again
    assert sent > 1_000, sent
    assert len(unreachable) < 10, unreachable  # most URLs are swept with good values too
    assert failures == []
