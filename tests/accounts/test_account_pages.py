"""Sign up, email verification, log in and out, password reset: allauth's flows in Slate's
layout, with every field labelled and every error shown."""

import re
from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SLATE_LAYOUT = b'<a class="brand" href="/">Slate</a>'


def link_in(message) -> str:
    return re.search(r"http://testserver(/accounts/\S+/)", message.body).group(1)


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
    ],
)
def test_entrance_pages_use_the_slate_layout_and_label_every_field(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert SLATE_LAYOUT in response.content
    assert unlabelled_fields(response.content.decode()) == []


def unlabelled_fields(html: str) -> list[str]:
    """The visible form fields that no label names: neither a ``<label for>`` with their id
    nor a ``<label>`` around them."""

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.label_for, self.fields, self.open_labels = set(), [], 0

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "label":
                self.open_labels += 1
                if attrs.get("for"):
                    self.label_for.add(attrs["for"])
            elif tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
                self.fields.append((attrs.get("id") or attrs.get("name"), self.open_labels > 0))

        def handle_endtag(self, tag):
            if tag == "label":
                self.open_labels -= 1

    parser = Fields()
    parser.feed(html)
    return [f for f, wrapped in parser.fields if not wrapped and f not in parser.label_for]


@pytest.mark.parametrize(
    "url",
    ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/", "/accounts/security/"],
)
def test_account_settings_pages_use_the_slate_layout(client, url):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 200
    assert SLATE_LAYOUT in response.content
    assert b'aria-label="Account settings"' in response.content


def test_sign_up_then_verify_the_email(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": "a long pass phrase",
         "password2": "a long pass phrase"},
    )  # fmt: skip
    assert response.status_code == 302
    user = get_user_model().objects.get(email="new@example.org")
    address = EmailAddress.objects.get(user=user)
    assert not address.verified
    assert len(mail.outbox) == 1 and "Confirm" in mail.outbox[0].subject
    confirm_url = link_in(mail.outbox[0])
    assert client.get(confirm_url).status_code == 200
    assert client.post(confirm_url).status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_bad_sign_up_shows_each_error_and_creates_nobody(client):
    UserFactory(email="taken@example.org")
    response = client.post(
        "/accounts/signup/",
        {"email": "taken@example.org", "password1": "short", "password2": "other"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error"' in html
    assert "already registered" in html
    assert get_user_model().objects.filter(email="taken@example.org").count() == 1
    response = client.post("/accounts/signup/", {"email": "", "password1": "", "password2": ""})
    assert response.content.decode().count("This field is required") == 3


def test_wrong_password_is_refused_with_a_message(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert b"The email address and/or password you specified are not correct." in response.content
    assert "_auth_user_id" not in client.session


def test_log_in_and_out(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-for-tests"})
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email_link(client):
    user = UserFactory()
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    reset_url = link_in(mail.outbox[0])
    form_url = client.get(reset_url)["Location"]  # allauth hides the key behind a redirect
    mismatch = client.post(form_url, {"password1": "brand new phrase", "password2": "different"})
    assert mismatch.status_code == 200 and b'class="error"' in mismatch.content
    response = client.post(
        form_url, {"password1": "brand new phrase", "password2": "brand new phrase"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand new phrase")
