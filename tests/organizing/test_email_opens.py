"""Whether an unsigned candidate opened our last email to them: the mail provider reports
opens through its tracking webhook (here Postmark's, through django-anymail's view), only the
candidates' emails ask for it, and the organizer dashboard shows it only where it is on."""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.core import mail as outbox
from django.test import Client
from django.urls import reverse

from candidates import tasks
from organizing.dashboard import organizer_dashboard
from slate import mail
from slate.models import OutboundEmail
from tests.factories import sign, slate_candidates

pytestmark = pytest.mark.django_db

SECRET = "hooks:correct-horse"


@pytest.fixture
def tracking(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.SLATE_EMAIL_TRACK_OPENS = True
    return settings


def post_open(message_id: str, recipient: str, at: str, credentials: str = SECRET):
    body = {
        "RecordType": "Open",
        "MessageID": message_id,
        "Recipient": recipient,
        "ReceivedAt": at,
        "FirstOpen": True,
    }
    auth = "Basic " + base64.b64encode(credentials.encode()).decode()
    return Client().post(
        "/anymail/postmark/tracking/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def digest_to(candidate) -> OutboundEmail:
    return OutboundEmail.objects.get(to=candidate.user.email, category="candidate_news")


def test_an_open_the_provider_reports_shows_on_the_dashboard_once(tracking, slate, organizer):
    signer, unsigned, *_ = slate_candidates(slate)
    sign(signer, slate)
    tasks.send_weekly_digests()
    [message] = [m for m in outbox.outbox if m.to == [unsigned.user.email]]
    assert message.anymail_test_params["track_opens"] is True
    row = digest_to(unsigned)
    assert row.provider_message_id != "" and row.opened_at is None

    client = Client()
    client.force_login(organizer)
    board_url = reverse("organize:dashboard", args=[slate.slug])
    page = client.get(board_url).content.decode()
    assert "Last email (opened?)" in page and "not opened" in page

    # Another recipient's address with this message's id stamps nothing.
    assert (
        post_open(row.provider_message_id, "someone@else.org", "2026-12-05T08:00:00Z").status_code
        == 200
    )
    assert (
        post_open(row.provider_message_id, unsigned.user.email, "2026-12-06T18:00:00Z").status_code
        == 200
    )
    # A later re-open (or the same event again) keeps the first open.
    assert (
        post_open(row.provider_message_id, unsigned.user.email, "2026-12-07T09:00:00Z").status_code
        == 200
    )
    row.refresh_from_db()
    assert row.opened_at == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)

    [pressed] = [p for p in organizer_dashboard(slate).pressure if p.standing.candidate == unsigned]
    assert pressed.last_email.opened_at == row.opened_at
    row_html = (
        client.get(board_url).content.decode().split(f'data-testid="pressure-{unsigned.pk}"')[1]
    )
    assert "opened Dec 6" in row_html.split("</tr>")[0]


def test_an_open_without_the_webhook_secret_changes_nothing(tracking, slate):
    signer, unsigned, *_ = slate_candidates(slate)
    sign(signer, slate)
    tasks.send_weekly_digests()
    row = digest_to(unsigned)
    response = post_open(row.provider_message_id, unsigned.user.email, "2026-12-06T18:00:00Z",
                         credentials="hooks:wrong")  # fmt: skip
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.opened_at is None


def test_supporters_mail_never_asks_for_open_tracking(tracking, slate):
    mail.send(
        mail.Email(
            to="supporter@example.org",
            subject="News",
            template="organizing/email/deadline_extended.txt",
            context={"slate": slate, "extension": None, "url": "https://example.org/"},
            category=mail.Category.MILESTONES,
            slate=slate,
        )
    )
    [message] = outbox.outbox
    assert "track_opens" not in message.anymail_test_params


def test_with_tracking_off_nothing_asks_and_the_dashboard_has_no_opened_column(
    tracking, slate, organizer
):
    tracking.SLATE_EMAIL_TRACK_OPENS = False
    signer, unsigned, *_ = slate_candidates(slate)
    sign(signer, slate)
    tasks.send_weekly_digests()
    [message] = [m for m in outbox.outbox if m.to == [unsigned.user.email]]
    assert "track_opens" not in message.anymail_test_params
    client = Client()
    client.force_login(organizer)
    page = client.get(reverse("organize:dashboard", args=[slate.slug])).content.decode()
    assert "(opened?)" not in page and "not opened" not in page
