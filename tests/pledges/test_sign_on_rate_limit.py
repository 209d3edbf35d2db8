"""The anonymous sign-on form emails any address typed, so each client address may post it
only so often: past the limit a clear 429 on the form, no request written, no email sent."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from pledges.models import SignOnRequest
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def post(client, slate, n):
    data = {"name": f"Person {n}", "email": f"p{n}@example.org", "zip_code": "94110"}
    return client.post(f"/slates/{slate.slug}/sign-on/", data, REMOTE_ADDR="203.0.113.9")


@override_settings(SLATE_SIGN_ON_RATE_PER_IP="3/h/ip")
def test_the_anonymous_form_is_limited_per_address(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=1, min_signatures=1)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            assert post(client, slate, n).status_code == 302
    response = post(client, slate, 3)
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert "Too many sign-ons from your network" in response.content.decode()
    assert SignOnRequest.objects.count() == 3 and len(mail.outbox) == 3

    # Another address is not held up; nor is someone signing on with their account.
    other = Client().post(
        f"/slates/{slate.slug}/sign-on/",
        {"name": "Other", "email": "other@example.org", "zip_code": "94110"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 302
    member = Client()
    member.force_login(UserFactory())
    response = member.post(
        f"/slates/{slate.slug}/sign-on/", {"supporter_state": "CA"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302
