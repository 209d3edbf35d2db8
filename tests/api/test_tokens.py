"""Personal access tokens: made once, stored hashed, revocable, and usable from curl."""

import base64
import hashlib

import pytest
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_a_token_made_with_email_and_password_reads_the_api():
    user = UserFactory()
    client = APIClient()
    response = client.post(
        "/api/v1/tokens",
        {"name": "nightly export"},
        format="json",
        HTTP_AUTHORIZATION=_basic(user.email, "pw-for-tests"),
    )
    assert response.status_code == 201, response.content
    raw = response.json()["token"]
    assert raw.startswith("slt_")
    stored = PersonalAccessToken.objects.get(user=user)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(PersonalAccessToken.objects.values_list())
    me = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    listed = APIClient().get("/api/v1/tokens", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert "token" not in listed["results"][0]


def test_a_wrong_password_makes_no_token():
    user = UserFactory()
    response = APIClient().post(
        "/api/v1/tokens", {"name": "x"}, format="json",
        HTTP_AUTHORIZATION=_basic(user.email, "wrong"),
    )  # fmt: skip
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not PersonalAccessToken.objects.exists()


def test_basic_auth_only_makes_tokens():
    user = UserFactory()
    response = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=_basic(user.email, "pw-for-tests"))
    assert response.status_code == 401


def test_a_revoked_token_is_refused_at_once():
    user = UserFactory()
    session = APIClient()
    session.force_login(user)
    made = session.post("/api/v1/tokens", {"name": "ci"}, format="json").json()
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {made['token']}")
    assert script.get("/api/v1/me").status_code == 200
    assert session.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    response = script.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    # Revoked tokens do not even read public data: a bad credential is never anonymous.
    assert script.get("/api/v1/slates").status_code == 401


def test_nobody_revokes_anothers_token():
    owner, other = UserFactory(), UserFactory()
    client = APIClient()
    client.force_login(owner)
    token_id = client.post("/api/v1/tokens", {"name": "mine"}, format="json").json()["id"]
    client.force_login(other)
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 404
    assert PersonalAccessToken.objects.get(pk=token_id).revoked_at is None


def test_token_names_are_checked():
    client = APIClient()
    client.force_login(UserFactory())
    for body in ({"name": ""}, {"name": 5}, {"name": "x" * 101}, {}):
        response = client.post("/api/v1/tokens", body, format="json")
        assert response.status_code == 400, body
        assert "name" in response.json()["fields"]
    assert not PersonalAccessToken.objects.exists()


def test_the_settings_page_shows_a_new_token_once_and_revokes(client):
    user = UserFactory()
    client.force_login(user)
    page = client.post("/api/tokens/", {"name": "laptop"})
    assert page.status_code == 200
    raw = page.context["new_token"]
    assert raw.encode() in page.content
    again = client.get("/api/tokens/")
    assert raw.encode() not in again.content
    assert b"laptop" in again.content
    token = PersonalAccessToken.objects.get(user=user)
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_the_settings_page_needs_a_login(client):
    assert client.get("/api/tokens/").status_code == 302


def test_accounts_with_two_factor_make_tokens_on_the_settings_page_only():
    from tests.factories import with_totp

    user = with_totp(UserFactory())
    response = APIClient().post(
        "/api/v1/tokens", {"name": "x"}, format="json",
        HTTP_AUTHORIZATION=_basic(user.email, "pw-for-tests"),
    )  # fmt: skip
    assert response.status_code == 403
    assert not PersonalAccessToken.objects.exists()


def test_the_account_security_page_links_to_the_tokens(client):
    client.force_login(UserFactory())
    page = client.get("/accounts/security/")
    assert page.status_code == 200
    assert b'href="/api/tokens/"' in page.content
