"""Personal access tokens: made once, stored hashed, revocable, and usable from curl."""

import base64
import hashlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from tests.factories import UserFactory, with_totp

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


def _post_with_password(email: str, password: str, **extra):
    return APIClient().post(
        "/api/v1/tokens", {"name": "x"}, format="json",
        HTTP_AUTHORIZATION=_basic(email, password), **extra,
    )  # fmt: skip


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
    user = with_totp(UserFactory())
    response = _post_with_password(user.email, "pw-for-tests")
    assert response.status_code == 401
    assert "accounts with two-factor" in response.json()["message"].lower()
    assert not PersonalAccessToken.objects.exists()


def test_the_right_password_of_a_two_factor_account_answers_as_a_wrong_one():
    """No oracle: status, body and headers say nothing about the password."""
    user = with_totp(UserFactory())
    right = _post_with_password(user.email, "pw-for-tests")
    wrong = _post_with_password(user.email, "guess-1")
    unknown = _post_with_password("nobody@example.org", "guess-2")
    answers = [
        (r.status_code, r.json(), r.get("WWW-Authenticate")) for r in (right, wrong, unknown)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    assert not PersonalAccessToken.objects.exists()


def test_password_guessing_is_refused_per_account_even_with_the_right_password():
    """allauth's login-failure budget (5 per account per 5 minutes by default), shared with
    the login form: after it, the right password makes no token either."""
    user = UserFactory()
    for n in range(5):
        assert _post_with_password(user.email, f"guess-{n}").status_code == 401
    response = _post_with_password(user.email, "pw-for-tests")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert "failed logins" in response.json()["message"]
    assert int(response["Retry-After"]) >= 60
    assert not PersonalAccessToken.objects.exists()
    # The login form keeps the same count.
    login = Client().post("/accounts/login/", {"login": user.email, "password": "pw-for-tests"})
    assert login.status_code == 200 and "_auth_user_id" not in login.wsgi_request.session
    # Another account is not locked by this one's guesses.
    assert _post_with_password(UserFactory().email, "pw-for-tests").status_code == 201


def test_failed_logins_on_the_form_count_against_the_api_too():
    user = UserFactory()
    for n in range(5):
        Client().post("/accounts/login/", {"login": user.email, "password": f"guess-{n}"})
    assert _post_with_password(user.email, "pw-for-tests").status_code == 429


def test_password_guessing_is_refused_per_address_across_accounts():
    """10 failures a minute from one address (allauth's default), whatever the accounts."""
    for n in range(10):
        assert _post_with_password(f"someone{n}@example.org", "guess").status_code == 401
    assert _post_with_password(UserFactory().email, "pw-for-tests").status_code == 429
    other_address = _post_with_password(
        UserFactory().email, "pw-for-tests", REMOTE_ADDR="198.51.100.7"
    )
    assert other_address.status_code == 201


def test_the_right_password_of_a_two_factor_account_spends_the_budget_as_a_wrong_one():
    """Were the right password not counted, one more try would be left after it than after
    a wrong one: the count would tell."""
    user = with_totp(UserFactory())
    for n in range(4):
        _post_with_password(user.email, f"guess-{n}")
    assert _post_with_password(user.email, "pw-for-tests").status_code == 401
    assert _post_with_password(user.email, "guess-5").status_code == 429


def test_a_right_password_does_not_spend_the_budget():
    user = UserFactory()
    for n in range(6):
        assert _post_with_password(user.email, "pw-for-tests").status_code == 201, n


def test_the_account_security_page_links_to_the_tokens(client):
    client.force_login(UserFactory())
    page = client.get("/accounts/security/")
    assert page.status_code == 200
    assert b'href="/api/tokens/"' in page.content
