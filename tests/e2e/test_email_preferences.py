"""The email preferences page in Chromium, opened from the link in a real email's footer with
no login: turn a slate's milestones off and organizer updates off everywhere, save, and the
next milestone email is not sent; a forged link shows a clear message and changes nothing."""

import re

import pytest
from django.core import mail as outbox
from playwright.sync_api import expect

from pledges import intake as pledge_intake
from slate import mail
from slate.models import EmailOptOut
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db(transaction=True)


def news(slate, to):
    return mail.Email(
        to=to,
        subject=f"{slate.name}: news",
        template="organizing/email/deadline_extended.txt",
        context={"slate": slate, "extension": None, "url": "https://example.org/"},
        category=mail.Category.MILESTONES,
        slate=slate,
    )


def test_a_supporter_turns_milestones_off_from_the_emailed_link(live_server, page, settings):
    settings.SLATE_PUBLIC_URL = live_server.url
    slate = make_open_slate(candidates=2, min_signatures=2)
    supporter = UserFactory()
    pledge_intake.sign_on(supporter=supporter, slate=slate)
    assert mail.send(news(slate, supporter.email)) is True
    [message] = outbox.outbox
    html = message.alternatives[0][0]
    link = re.search(r'href="([^"]+/email/preferences/[^"]+)"', html)[1]

    page.goto(link)  # a fresh browser: no session
    expect(page.get_by_role("heading", name="Email preferences")).to_be_visible()
    expect(page.get_by_text(supporter.email)).to_be_visible()
    slate_box = page.locator(f'fieldset[data-scope="{slate.pk}"]')
    everywhere = page.locator('fieldset[data-scope="all"]')
    milestones = slate_box.get_by_label(mail.Category.MILESTONES.label)
    expect(milestones).to_be_checked()
    milestones.uncheck()
    everywhere.get_by_label(mail.Category.ORGANIZER_UPDATES.label).uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(slate_box.get_by_label(mail.Category.MILESTONES.label)).not_to_be_checked()

    assert set(EmailOptOut.objects.values_list("slate_id", "category")) == {
        (slate.pk, "milestones"),
        (None, "organizer_updates"),
    }
    assert mail.send(news(slate, supporter.email)) is False
    assert len(outbox.outbox) == 1


def test_a_forged_link_shows_a_clear_message(live_server, page):
    response = page.goto(live_server.url + "/email/preferences/not-a-real-token/")
    assert response.status == 400
    expect(page.get_by_text("This link is not valid")).to_be_visible()
    expect(page.get_by_text("Nothing was changed")).to_be_visible()
