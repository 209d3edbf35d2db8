"""Two-factor is checked on the login, not on the account: a token acts for a role that
requires two-factor only if the login that made it passed the second factor (its
``second_factor_at``), and a browser session only if it passed it itself."""

import base64

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from slate import organizers as slate_organizers
from tests.factories import UserFactory, current_totp_code, with_totp

pytestmark = pytest.mark.django_db


def _basic(email: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:pw-for-tests".encode()).decode()


def _token_by_password(user) -> str:
    response = APIClient().post(
        "/api/v1/tokens", {"name": "cron"}, format="json", HTTP_AUTHORIZATION=_basic(user.email)
    )
    assert response.status_code == 201, response.content
    assert response.json().get("second_factor_at") is None
    return response.json()["token"]


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _become_organizer(world, user):
    """``user`` is made an organizer of ``world.slate`` and sets up TOTP (required)."""
    slate_organizers.add_organizer(slate=world.slate, user=user, actor=world.users["organizer"])
    return with_totp(user)


def test_a_password_token_from_before_the_role_cannot_read_donors(world):
    user = UserFactory()
    raw = _token_by_password(user)
    _become_organizer(world, user)
    script = _bearer(raw)
    assert script.get("/api/v1/me").status_code == 200  # still the user's own token
    response = script.get(f"/api/v1/slates/{world.slate.slug}/pledges")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "two_factor_required"
    assert "made without two-factor" in body["message"] and "/api/tokens/" in body["message"]


def test_a_password_token_cannot_sign_for_a_candidate(world):
    """The candidate's account had TOTP all along; a token made without it does not sign."""
    from api import services as api_services
    from candidates.models import Signature
    from candidates.selectors import current_agreement_version

    candidate = world.users["candidate"]
    _, raw = api_services.create_token(user=candidate, name="made by password")
    version = current_agreement_version(world.slate)
    response = _bearer(raw).post(
        f"/api/v1/slates/{world.slate.slug}/signature",
        {"agreement_version": version.pk, "typed_name": candidate.candidate_profile.full_name},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    assert not Signature.objects.filter(candidate__user=candidate).exists()


def test_a_token_made_from_a_two_factor_login_acts_for_the_role(world):
    user = _become_organizer(world, UserFactory())
    session = APIClient()
    session.force_login(user)  # password and code (tests/conftest.py)
    made = session.post("/api/v1/tokens", {"name": "export"}, format="json").json()
    assert made["second_factor_at"] is not None
    pledges = f"/api/v1/slates/{world.slate.slug}/pledges"
    assert _bearer(made["token"]).get(pledges).status_code == 200
    # ... and so does a token that token makes: it carries the same second factor.
    child = _bearer(made["token"]).post("/api/v1/tokens", {"name": "child"}, format="json").json()
    assert child["second_factor_at"] == made["second_factor_at"]


def test_a_session_from_before_two_factor_makes_only_password_tokens(world):
    user = UserFactory()
    session = APIClient()
    session.force_login(user)  # a password alone: no TOTP yet
    _become_organizer(world, user)
    made = session.post("/api/v1/tokens", {"name": "export"}, format="json").json()
    assert made["second_factor_at"] is None
    refused = _bearer(made["token"]).get(f"/api/v1/slates/{world.slate.slug}/pledges")
    assert refused.json()["code"] == "two_factor_required"
    # The session itself is refused too, and told where to enter the code.
    response = session.get(f"/api/v1/slates/{world.slate.slug}/pledges")
    assert response.status_code == 403
    assert "/accounts/2fa/reauthenticate/" in response.json()["message"]
    cache.clear()  # allauth refuses a code used twice; tests share one secret
    entered = session.post("/accounts/2fa/reauthenticate/", {"code": current_totp_code()})
    assert entered.status_code == 302
    assert session.get(f"/api/v1/slates/{world.slate.slug}/pledges").status_code == 200
    made = session.post("/api/v1/tokens", {"name": "export 2"}, format="json").json()
    assert made["second_factor_at"] is not None


def test_a_token_from_before_the_authenticator_was_replaced_loses_the_role(world):
    """The second factor was passed with an authenticator that is gone: it proves nothing
    about the one the account has now."""
    from allauth.mfa.models import Authenticator

    user = _become_organizer(world, UserFactory())
    session = APIClient()
    session.force_login(user)
    made = session.post("/api/v1/tokens", {"name": "export"}, format="json").json()
    Authenticator.objects.filter(user=user).delete()
    with_totp(user)
    response = _bearer(made["token"]).get(f"/api/v1/slates/{world.slate.slug}/pledges")
    assert response.json()["code"] == "two_factor_required"


def test_the_tokens_page_asks_a_password_only_login_for_the_code_first(world, client):
    user = UserFactory()
    client.force_login(user)
    _become_organizer(world, user)
    response = client.post("/api/tokens/", {"name": "laptop"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert not PersonalAccessToken.objects.filter(user=user).exists()
    cache.clear()
    client.post("/accounts/2fa/reauthenticate/", {"code": current_totp_code()})
    page = client.post("/api/tokens/", {"name": "laptop"})
    assert page.status_code == 200
    assert PersonalAccessToken.objects.get(user=user).second_factor_at is not None
    assert b"Two-factor" in page.content
