"""Errors are answered in Slate's own layout, saying what happened and where to go next."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.factories import UserFactory, make_open_slate, slate_candidates

pytestmark = pytest.mark.django_db

LAYOUT = 'class="brand"'


def test_not_found_is_in_the_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert LAYOUT in page and "We could not find that page" in page


def test_forbidden_is_in_the_layout_and_names_the_account(client):
    slate = make_open_slate()
    someone = UserFactory()
    client.force_login(someone)
    response = client.get(f"/organize/slates/{slate.slug}/")
    assert response.status_code == 403
    page = response.content.decode()
    assert LAYOUT in page and "This page is not open to you" in page and someone.email in page


def test_a_bad_request_says_what_was_wrong(client):
    candidate = slate_candidates(make_open_slate())[0]
    client.force_login(UserFactory(is_staff=True))
    response = client.get(f"/compliance/exports/{candidate.pk}/schedule-a.csv", {"slate": "a b"})
    assert response.status_code == 400
    page = response.content.decode()
    assert LAYOUT in page and "The slate= value is not a slate&#x27;s short name." in page


def test_a_refused_form_token_says_how_to_recover():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "a@example.org", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert LAYOUT in page and "Please send that form again" in page


def test_a_server_error_is_in_the_layout_without_touching_the_session():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert LAYOUT in page and "Something went wrong on our side" in page
    assert "Log in" not in page  # no account menu: the 500 page knows nobody
