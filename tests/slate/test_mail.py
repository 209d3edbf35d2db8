"""The one send path (slate.mail): HTML and plain text, footer, sender, headers, send-once,
preferences (transactional mail ignores them), suppression, and the signed preferences and
one-click unsubscribe links (RFC 8058), which need no session."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail as outbox
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pledges import intake as pledge_intake
from pledges import signons
from slate import deadlines, mail
from slate.models import EmailOptOut, EmailSuppression, OutboundEmail
from tests.factories import UserFactory, make_open_slate, organizer_of, with_totp

pytestmark = pytest.mark.django_db

Category = mail.Category


@pytest.fixture
def slate():
    return make_open_slate(candidates=2, min_signatures=2)


def milestone(slate, to="fan@example.org", **kwargs):
    return mail.Email(
        to=to,
        subject=f"{slate.name}: news",
        template="organizing/email/deadline_extended.txt",
        context={"slate": slate, "extension": None, "url": "https://example.org/"},
        category=kwargs.pop("category", Category.MILESTONES),
        slate=slate,
        **kwargs,
    )


def receipt_like(slate, to="fan@example.org"):
    return mail.Email(
        to=to,
        subject="Your payment",
        template="organizing/email/deadline_extended.txt",
        context={"slate": slate, "extension": None, "url": "https://example.org/"},
        slate=slate,
        reason=f"you pledged to {slate.name}",
    )


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url.strip("<>"))


def test_every_email_has_an_html_part_a_footer_and_the_slate_in_the_sender(slate):
    assert mail.send(milestone(slate, reason="you support it")) is True
    [message] = outbox.outbox
    assert f"{slate.name} via Slate" in message.from_email
    assert "noreply@slate.localhost" in message.from_email
    # the plain text is kept, with the footer: the reason and the preferences link
    assert "You get this email because you support it." in message.body
    assert "/email/preferences/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "<html" in html and "#5b2bd6" in html  # Slate's accent colour
    assert "You get this email because you support it." in html
    assert "/email/preferences/" in html
    row = OutboundEmail.objects.get()
    assert (row.status, row.category, row.slate, row.to) == (
        "sent",
        "milestones",
        slate,
        "fan@example.org",
    )


def test_optional_mail_carries_one_click_unsubscribe_headers_and_transactional_does_not(slate):
    mail.send(milestone(slate))
    mail.send(receipt_like(slate))
    news, receipt = outbox.outbox
    assert news.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = news.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<https?://\S+/email/unsubscribe/\S+/>", header)
    assert "List-Unsubscribe" not in receipt.extra_headers
    assert "sent whatever your email preferences say" in receipt.body
    # the headers survive into the message as sent
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in news.message().as_string()


def test_send_once_sends_one_email_per_key_however_often_called(slate):
    assert mail.send(milestone(slate), once="news:1:fan") is True
    assert mail.send(milestone(slate), once="news:1:fan") is False
    assert mail.send(milestone(slate), once="news:2:fan") is True
    assert len(outbox.outbox) == 2
    assert OutboundEmail.objects.filter(key__startswith="news:").count() == 2


def test_a_mail_error_records_nothing_so_the_retry_sends(slate):
    with (
        mock.patch("slate.mail.deliver", side_effect=ConnectionResetError),
        pytest.raises(ConnectionResetError),
    ):
        mail.send(milestone(slate), once="news:1:fan")
    assert not OutboundEmail.objects.exists()
    assert mail.send(milestone(slate), once="news:1:fan") is True
    assert len(outbox.outbox) == 1


def test_a_kind_turned_off_for_a_slate_or_for_all_is_not_sent(slate):
    other = make_open_slate(candidates=1, min_signatures=1)
    mail.set_wanted("Fan@Example.org", Category.MILESTONES, slate.pk, False)
    assert mail.send(milestone(slate)) is False
    assert mail.send(milestone(other)) is True  # another slate's milestones still come
    assert mail.send(milestone(slate, category=Category.ORGANIZER_UPDATES)) is True
    mail.set_wanted("fan@example.org", Category.ORGANIZER_UPDATES, None, False)
    assert mail.send(milestone(other, category=Category.ORGANIZER_UPDATES)) is False
    assert [r.status for r in OutboundEmail.objects.order_by("id")] == [
        "unsubscribed",
        "sent",
        "sent",
        "unsubscribed",
    ]
    mail.set_wanted("fan@example.org", Category.MILESTONES, slate.pk, True)
    assert mail.send(milestone(slate)) is True


def test_with_a_key_too_the_address_and_the_kind_decide_and_are_read_with_the_row(slate):
    """``send(once=...)`` asks whether the address is suppressed and the kind turned off in
    the read that locks the key's row: the same answers as without a key, no query of their
    own (a key's email costs its insert, that read and the settling update)."""
    other = make_open_slate(candidates=1, min_signatures=1)
    mail.set_wanted("fan@example.org", Category.MILESTONES, slate.pk, False)
    mail.set_wanted("fan@example.org", Category.ORGANIZER_UPDATES, None, False)
    mail.suppress("gone@example.org", reason="bounced")
    sends = [
        (milestone(slate), False),  # turned off for this slate
        (milestone(other), True),  # not for another
        (milestone(other, category=Category.ORGANIZER_UPDATES), False),  # off for all slates
        (receipt_like(slate), True),  # transactional: preferences aside
        (receipt_like(slate, to="Gone@Example.org"), False),  # suppressed: nothing at all
        (milestone(other, to="gone@example.org"), False),
    ]
    for number, (email, sent) in enumerate(sends):
        with CaptureQueriesContext(connection) as captured:
            assert mail.send(email, once=f"keyed:{number}") is sent, number
        # In the test's transaction: a savepoint, the insert, the locked read, the update.
        assert len(captured.captured_queries) == 5, captured.captured_queries
    assert list(OutboundEmail.objects.order_by("id").values_list("key", "status")) == [
        ("keyed:0", "unsubscribed"),
        ("keyed:1", "sent"),
        ("keyed:2", "unsubscribed"),
        ("keyed:3", "sent"),
        ("keyed:4", "suppressed"),
        ("keyed:5", "suppressed"),
    ]
    assert len(outbox.outbox) == 2


def test_transactional_mail_ignores_the_preferences(slate, django_capture_on_commit_callbacks):
    """Everything optional turned off, everywhere: the sign-on link still arrives."""
    mail.unsubscribe("jane@example.org", category=None, slate_id=None)
    assert EmailOptOut.objects.filter(address="jane@example.org").count() == len(mail.OPTIONAL)
    with django_capture_on_commit_callbacks(execute=True):
        signons.request_sign_on(
            slate=slate, name="Jane Doe", email="jane@example.org", zip_code="14604"
        )
    [message] = outbox.outbox
    assert message.to == ["jane@example.org"] and "Confirm your name" in message.subject
    assert "It is sent whatever your email preferences say." in message.body
    with pytest.raises(ValueError):
        mail.set_wanted("jane@example.org", Category.TRANSACTIONAL, None, False)


def test_a_suppressed_address_gets_nothing_not_even_transactional_mail(slate):
    assert mail.suppress("Gone@Example.org", reason="bounced") is True
    assert mail.suppress("gone@example.org", reason="complained") is False  # once
    assert mail.send(receipt_like(slate, to="gone@example.org")) is False
    assert mail.send(milestone(slate, to="GONE@example.org")) is False
    assert outbox.outbox == []
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"suppressed"}


def test_organizer_news_respects_the_preference(slate, django_capture_on_commit_callbacks):
    keen, tired = UserFactory(), UserFactory()
    for person in (keen, tired):
        pledge_intake.sign_on(supporter=person, slate=slate)
    mail.set_wanted(tired.email, Category.ORGANIZER_UPDATES, slate.pk, False)
    with django_capture_on_commit_callbacks(execute=True):
        deadlines.extend_deadline(
            slate=slate,
            new_deadline=slate.deadline + timedelta(days=7),
            actor=organizer_of(slate),
            reason="The primary moved.",
        )
    assert [m.to for m in outbox.outbox] == [[keen.email]]


# --- The links ----------------------------------------------------------------------------------


def news_link(slate, to="fan@example.org"):
    mail.send(milestone(slate, to=to))
    message = outbox.outbox[-1]
    unsubscribe = path_of(message.extra_headers["List-Unsubscribe"])
    preferences = path_of(re.search(r"(https?://\S+/email/preferences/\S+/)", message.body)[1])
    return unsubscribe, preferences


def test_one_click_unsubscribe_works_without_a_session_or_csrf_token(slate):
    unsubscribe, _ = news_link(slate)
    client = Client(enforce_csrf_checks=True)  # no cookie, no token: as a mail provider posts
    response = client.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert EmailOptOut.objects.filter(
        address="fan@example.org", slate=slate, category="milestones"
    ).exists()
    assert mail.send(milestone(slate)) is False
    # twice is the same as once
    assert client.post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert EmailOptOut.objects.count() == 1


def test_opening_the_unsubscribe_link_changes_nothing(slate):
    unsubscribe, preferences = news_link(slate)
    response = Client().get(unsubscribe)
    assert response.status_code == 302 and response["Location"] == preferences
    assert not EmailOptOut.objects.exists()


def test_the_preferences_page_needs_no_login_and_keeps_its_csrf_check(slate):
    _, preferences = news_link(slate)
    client = Client(enforce_csrf_checks=True)
    page = client.get(preferences)
    assert page.status_code == 200
    html = page.content.decode()
    assert "fan@example.org" in html and slate.name in html
    assert f'name="slate-{slate.pk}:milestones" checked' in html
    # without the form's CSRF token nothing is saved
    assert client.post(preferences, {}).status_code == 403
    assert not EmailOptOut.objects.exists()
    token = client.cookies["csrftoken"].value
    keep = {"csrfmiddlewaretoken": token, "all:milestones": "on", "all:organizer_updates": "on"}
    keep |= {f"slate-{slate.pk}:{kind}": "on" for kind in ("milestones", "volunteer_reminders")}
    saved = client.post(preferences, keep)
    assert saved.status_code == 200 and "Saved." in saved.content.decode()
    assert set(EmailOptOut.objects.values_list("slate_id", "category")) == {
        (None, "volunteer_reminders"),
        (slate.pk, "organizer_updates"),
    }


@pytest.mark.parametrize("how", ["forged", "cut", "expired", "other salt"])
def test_a_forged_or_expired_link_changes_nothing_and_says_so(slate, how, settings):
    unsubscribe, preferences = news_link(slate)
    if how in ("forged", "other salt"):
        # signed with a guessed key, or with Slate's key for something else (no salt)
        key = {"key": "guess"} if how == "forged" else {}
        token = signing.dumps({"e": "fan@example.org", "s": None, "c": None}, **key)
        unsubscribe, preferences = f"/email/unsubscribe/{token}/", f"/email/preferences/{token}/"
    elif how == "cut":
        unsubscribe, preferences = unsubscribe[:-12] + "/", preferences[:-12] + "/"
    else:
        settings.SLATE_EMAIL_LINK_MAX_AGE_DAYS = -1  # every link is older than that
    client = Client()
    one_click = client.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    page = client.get(preferences)
    form = client.post(preferences, {"all:milestones": ""})
    for response in (one_click, page, form):
        assert response.status_code == 400
    text = page.content.decode()
    assert ("has expired" in text) if how == "expired" else ("not valid" in text)
    assert "Nothing was changed" in text
    assert not EmailOptOut.objects.exists()


def test_staff_can_suppress_an_address_from_the_email_log(slate, client):
    client.force_login(with_totp(UserFactory(is_staff=True, is_superuser=True)))
    mail.send(milestone(slate, to="typo@exmaple.org"))
    row = OutboundEmail.objects.get()
    response = client.post(
        "/admin/slate/outboundemail/",
        {"action": "suppress_recipients", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    suppression = EmailSuppression.objects.get()
    assert (suppression.address, suppression.reason) == ("typo@exmaple.org", "manual")
    assert mail.send(milestone(slate, to="typo@exmaple.org")) is False
