"""Writes are limited per user and per client IP; a refused write is a 429 with Retry-After."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@override_settings(SLATE_API_WRITE_RATE_USER="3/min", SLATE_API_WRITE_RATE_IP="100/min")
def test_a_user_over_the_write_rate_gets_429_with_retry_after():
    user = UserFactory()
    client = _client(user)
    for n in range(3):
        assert client.post("/api/v1/tokens", {"name": f"t{n}"}, format="json").status_code == 201
    response = client.post("/api/v1/tokens", {"name": "one too many"}, format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"
    assert PersonalAccessToken.objects.filter(user=user).count() == 3
    # Reads go on, and another user from the same address may still write.
    assert client.get("/api/v1/tokens").status_code == 200
    assert (
        _client(UserFactory()).post("/api/v1/tokens", {"name": "other"}, format="json").status_code
        == 201
    )


@override_settings(SLATE_API_WRITE_RATE_USER="100/min", SLATE_API_WRITE_RATE_IP="2/min")
def test_one_address_over_the_write_rate_gets_429_whoever_writes():
    for _ in range(2):
        response = _client(UserFactory()).post("/api/v1/tokens", {"name": "t"}, format="json")
        assert response.status_code == 201
    response = _client(UserFactory()).post("/api/v1/tokens", {"name": "t"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    other_address = _client(UserFactory()).post(
        "/api/v1/tokens", {"name": "t"}, format="json", REMOTE_ADDR="198.51.100.7"
    )
    assert other_address.status_code == 201


@override_settings(SLATE_API_WRITE_RATE_USER="1/min", SLATE_API_WRITE_RATE_IP="1/min")
def test_forwarded_for_headers_do_not_dodge_the_ip_limit():
    client = _client(UserFactory())
    assert client.post("/api/v1/tokens", {"name": "a"}, format="json").status_code == 201
    response = _client(UserFactory()).post(
        "/api/v1/tokens", {"name": "b"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    assert response.status_code == 429
