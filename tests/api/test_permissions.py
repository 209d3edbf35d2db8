"""Every endpoint × every role, with the status each role gets.

Each row is checked in one test against one fresh world; for writes the roles that succeed
come last, so that the refusals before them are checked against an unchanged world (and
``test_refusals_change_nothing`` checks that they really changed nothing). The endpoints come
from the URL resolver: one (or a method of one) without a row in ``READS`` or ``WRITES`` fails
``test_every_endpoint_has_a_row``.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api import services as api_services
from candidates.models import Signature
from candidates.selectors import current_agreement_version
from pledges.models import Pledge
from slate.models import Endorsement

from .conftest import ROLES

pytestmark = pytest.mark.django_db

PUBLIC = dict.fromkeys(ROLES, 200)
LOGGED_IN = {**dict.fromkeys(ROLES, 200), "anonymous": 401}


def only(allowed: dict, refused: int) -> dict:
    return {role: allowed.get(role, refused) for role in ROLES} | (
        {"anonymous": 401} if "anonymous" not in allowed else {}
    )


def statuses(world, method: str, url: str, body=None, order=ROLES) -> dict:
    result = {}
    for role in order:
        client = world.client(role)
        response = getattr(client, method)(url, body, format="json")
        result[role] = response.status_code
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "message", "fields"}, (role, url)
    return result


READS = {
    "/api/v1/slates": PUBLIC,
    "/api/v1/slates/{slate}": PUBLIC,
    "/api/v1/slates/{slate}/totals": PUBLIC,
    "/api/v1/slates/{slate}/growth": PUBLIC,
    "/api/v1/slates/{slate}/volunteer-hours": PUBLIC,
    "/api/v1/slates/{slate}/planks": PUBLIC,
    "/api/v1/slates/{slate}/candidates": PUBLIC,
    "/api/v1/slates/{slate}/agreement/versions": PUBLIC,
    "/api/v1/slates/{slate}/agreement/versions/{number}": PUBLIC,
    "/api/v1/slates/{slate}/endorsements": PUBLIC,
    "/api/v1/candidates": PUBLIC,
    "/api/v1/candidates/{candidate}": PUBLIC,
    "/api/v1/partners": PUBLIC,
    "/api/v1/partners/{org}": PUBLIC,
    "/api/v1/partners/{org}/endorsements": PUBLIC,
    "/api/v1/me": LOGGED_IN,
    "/api/v1/tokens": LOGGED_IN,
    "/api/v1/pledges": LOGGED_IN,
    "/api/v1/pledges/{pledge}": only({"supporter": 200}, 404),
    "/api/v1/slates/{slate}/pledges": only({"organizer": 200, "staff": 200}, 403),
    "/api/v1/partners/{org}/referrals": only({"partner_admin": 200, "staff": 200}, 403),
    "/api/v1/slates/{slate}/signature": only({"candidate": 404}, 403),
    "/api/v1/partners/{org}/webhooks": only({"partner_admin": 200, "staff": 200}, 403),
    "/api/v1/partners/{org}/webhooks/{webhook}/deliveries": only(
        {"partner_admin": 200, "staff": 200}, 403
    ),
}


def _url(template: str, world) -> str:
    from api.webhooks import register_endpoint
    from tests.factories import slate_candidates

    webhook = register_endpoint(
        organization=world.organization, url="https://hooks.example.org/x",
        actor=world.users["partner_admin"],
    )  # fmt: skip
    return template.format(
        webhook=webhook.pk,
        slate=world.slate.slug,
        org=world.organization.slug,
        pledge=world.pledge.pk,
        candidate=slate_candidates(world.slate)[0].pk,
        number=1,
    )


# Each write, and the test below that sends it as every role with a valid body.
WRITES = {
    ("post", "/api/v1/slates/{slate}/signature"): "test_signing_and_withdrawing",
    ("post", "/api/v1/slates/{slate}/signature/withdraw"): "test_signing_and_withdrawing",
    ("post", "/api/v1/pledges"): "test_creating_pledges",
    ("post", "/api/v1/pledges/{pledge}/cancel"): "test_cancelling_a_pledge",
    ("post", "/api/v1/tokens"): "test_tokens",
    ("delete", "/api/v1/tokens/{token}"): "test_tokens",
    ("post", "/api/v1/partners/{org}/endorsements"): "test_endorsing",
    ("delete", "/api/v1/partners/{org}/endorsements/{slate}"): "test_endorsing",
    ("post", "/api/v1/partners/{org}/webhooks"): "test_webhook_endpoints",
    ("delete", "/api/v1/partners/{org}/webhooks/{webhook}"): "test_webhook_endpoints",
}


def _endpoints(patterns=None, route="") -> set[tuple[str, str]]:
    """(method, path with every argument as ``{}``) for every method of every /api/v1 view."""
    found = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found |= _endpoints(pattern.url_patterns, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (route + str(pattern.pattern)).startswith(
            "api/v1/"
        ):
            view = pattern.callback.cls
            path = "/" + re.sub(r"<[^>]+>", "{}", route + str(pattern.pattern))
            found |= {
                (m, path) for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)
            }
    return found


def test_every_endpoint_has_a_row():
    rows = {("get", t) for t in READS} | set(WRITES)
    rows = {(method, re.sub(r"\{\w+\}", "{}", template)) for method, template in rows}
    missing = sorted(_endpoints() - rows)
    assert not missing, (
        f"API endpoints without a row in tests/api/test_permissions.py: {missing}. Decide what "
        "each role gets, add a READS row or a test that sends a valid body as every role."
    )
    assert sorted(rows - _endpoints()) == [], "rows for endpoints that no longer exist"
    assert all(name in globals() for name in WRITES.values())


@pytest.mark.parametrize("template", list(READS))
def test_reads(world, template):
    assert statuses(world, "get", _url(template, world)) == READS[template]


def _last(*roles: str) -> list[str]:
    return [r for r in ROLES if r not in roles] + list(roles)


def test_signing_and_withdrawing(world):
    version = current_agreement_version(world.slate)
    url = f"/api/v1/slates/{world.slate.slug}/signature"
    name = world.users["candidate"].candidate_profile.full_name
    body = {"agreement_version": version.pk, "typed_name": name}
    expected = only({"candidate": 201}, 403)
    assert statuses(world, "post", url, body, order=_last("candidate")) == expected
    assert Signature.objects.filter(
        candidate__user=world.users["candidate"], withdrawn_at__isnull=True
    ).exists()
    expected_read = only({"candidate": 200}, 403)
    assert statuses(world, "get", url) == expected_read
    # other_candidate has a profile but is not on this slate: refused (403), not "not signed".
    expected = only({"candidate": 200, "other_candidate": 403}, 403)
    assert statuses(world, "post", f"{url}/withdraw", {}, order=_last("candidate")) == expected


def test_creating_pledges(world):
    body = {"slate": world.slate.slug, "kind": "signon"}
    assert statuses(world, "post", "/api/v1/pledges", body) == only(
        dict.fromkeys(ROLES[1:], 201), 401
    )


def test_cancelling_a_pledge(world):
    url = f"/api/v1/pledges/{world.pledge.pk}/cancel"
    assert statuses(world, "post", url, {}, order=_last("supporter")) == only(
        {"supporter": 200}, 404
    )


def test_tokens(world):
    assert statuses(world, "post", "/api/v1/tokens", {"name": "t"}) == only(
        dict.fromkeys(ROLES[1:], 201), 401
    )
    token, _ = api_services.create_token(user=world.users["supporter"], name="to revoke")
    url = f"/api/v1/tokens/{token.pk}"
    assert statuses(world, "delete", url, order=_last("supporter")) == only({"supporter": 204}, 404)


def test_endorsing(world):
    url = f"/api/v1/partners/{world.organization.slug}/endorsements"
    body = {"slate": world.other_slate.slug, "statement": "Yes."}
    assert statuses(world, "post", url, body, order=_last("staff", "partner_admin")) == only(
        {"partner_admin": 201, "staff": 201}, 403
    )
    url = f"{url}/{world.other_slate.slug}"
    assert statuses(world, "delete", url, order=_last("staff", "partner_admin")) == only(
        {"partner_admin": 204, "staff": 204}, 403
    )


def test_webhook_endpoints(world):
    url = f"/api/v1/partners/{world.organization.slug}/webhooks"
    body = {"url": "https://hooks.example.org/slate"}
    created = only({"partner_admin": 201, "staff": 201}, 403)
    assert statuses(world, "post", url, body, order=_last("staff", "partner_admin")) == created
    endpoint_id = world.organization.webhook_endpoints.first().pk
    deleted = only({"partner_admin": 204, "staff": 204}, 403)
    assert (
        statuses(world, "delete", f"{url}/{endpoint_id}", order=_last("staff", "partner_admin"))
        == deleted
    )


def test_refusals_change_nothing(world):
    """Every refused write of the matrix above, with nothing written."""
    before = (
        Pledge.objects.count(),
        Signature.objects.count(),
        Endorsement.objects.count(),
        world.pledge.state,
    )
    version = current_agreement_version(world.slate)
    sign_body = {"agreement_version": version.pk, "typed_name": "Anyone"}
    writes = [
        ("post", f"/api/v1/slates/{world.slate.slug}/signature", sign_body),
        ("post", f"/api/v1/slates/{world.slate.slug}/signature/withdraw", {}),
        ("post", f"/api/v1/pledges/{world.pledge.pk}/cancel", {}),
        ("post", f"/api/v1/partners/{world.organization.slug}/endorsements",
         {"slate": world.other_slate.slug}),
        ("delete", f"/api/v1/partners/{world.organization.slug}/endorsements/{world.slate.slug}",
         None),
    ]  # fmt: skip
    refused = ("anonymous", "other_supporter", "other_candidate", "other_organizer")
    for method, url, body in writes:
        for role in refused:
            response = getattr(world.client(role), method)(url, body, format="json")
            assert response.status_code in (401, 403, 404), (role, url, response.content)
    world.pledge.refresh_from_db()
    after = (
        Pledge.objects.count(),
        Signature.objects.count(),
        Endorsement.objects.count(),
        world.pledge.state,
    )
    assert after == before


def test_role_actions_need_two_factor_as_on_the_pages(world):
    """A candidate whose authenticator is gone may not sign through the API either."""
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=world.users["candidate"]).delete()
    version = current_agreement_version(world.slate)
    name = world.users["candidate"].candidate_profile.full_name
    response = world.client("candidate").post(
        f"/api/v1/slates/{world.slate.slug}/signature",
        {"agreement_version": version.pk, "typed_name": name},
        format="json",
    )
    assert response.status_code == 403
    assert "two-factor" in response.json()["message"]
    assert not Signature.objects.filter(candidate__user=world.users["candidate"]).exists()
