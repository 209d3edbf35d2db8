"""The headers that tell browsers what a Slate page may do (issue 15.7). Chromium proves the
policy holds on the real pages: tests/e2e/test_browser_defences.py and the CSP check every
browser test runs (tests/e2e/conftest.py)."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip())


def test_every_page_runs_only_slates_own_scripts_and_may_not_be_framed(client):
    slate = make_open_slate()
    response = client.get(slate.get_absolute_url())
    policy = directives(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "payment=()" in response.headers["Permissions-Policy"]


def test_only_the_widget_may_be_framed_by_other_sites(client):
    slate = make_open_slate()
    response = client.get(f"/embed/slates/{slate.slug}/")
    assert directives(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response.headers
    assert directives(response)["script-src"] == "'self'"


def test_only_the_card_pages_load_stripe_js(client, settings):
    from pledges import intake as pledge_intake
    from pledges.declarations import ATTESTED

    settings.STRIPE_API_BASE = ""
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=make_open_slate(), amount_cents=2_500
    )
    client.force_login(supporter)
    # The card page itself asks Stripe for a SetupIntent; the header is set on any answer.
    card = client.get(f"/pledges/{pledge.pk}/card/")
    assert "https://js.stripe.com" in directives(card)["script-src"]
    assert "https://hooks.stripe.com" in directives(card)["frame-src"]
    elsewhere = client.get("/pledges/")
    assert "stripe" not in elsewhere.headers["Content-Security-Policy"]


OUR_APPS = (
    "slate", "candidates", "pledges", "escrow", "organizing", "accounts", "compliance", "api",
    "volunteers",
)  # fmt: skip
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|\son[a-z]+=|\sstyle=|<style"
)


def test_no_template_carries_an_inline_script_handler_or_style():
    """What the policy would block: a script without src (JSON data blocks are not run), an
    on…= handler, a style attribute or element. Every template of Slate's own apps."""
    roots = [Path(settings.BASE_DIR) / "templates"] + [
        Path(apps.get_app_config(app).path) / "templates" for app in OUR_APPS
    ]
    offending = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)!r}"
        for root in roots
        if root.is_dir()
        for path in sorted(root.rglob("*.html"))
        for match in INLINE.finditer(re.sub(r"{#.*?#}", "", path.read_text()))
        if "email" not in path.parts  # mail is read in mail clients, not under our CSP
    ]
    assert len(list(roots[0].rglob("*.html"))) > 50
    assert offending == []
