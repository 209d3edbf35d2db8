"""The open door: an anonymous visitor signs on by email, shares their link, and a friend who
comes by it pledges money; the first sees that they brought someone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from pledges.models import Pledge, Referral
from tests.e2e.test_money_journey import attest, fill_card
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_on_by_email_share_and_a_friend_pledges(live_server, new_page, localstripe, log_in):
    slate = make_open_slate(candidates=3, min_signatures=3)
    base = live_server.url

    # An anonymous visitor signs on from the slate page: name, email and ZIP, no password.
    visitor = new_page()
    visitor.goto(base + slate.get_absolute_url())
    visitor.get_by_role("link", name="Sign on", exact=True).click()
    visitor.get_by_label("Your name").fill("Maya Angelou")
    visitor.get_by_label("Email").fill("maya@example.org")
    visitor.get_by_label("ZIP code").fill("94110")
    visitor.get_by_label("public roll").check()
    visitor.get_by_role("button", name="Sign on").click()
    expect(visitor.get_by_role("heading", name="Check your email")).to_be_visible()

    # They follow the emailed link and confirm: the thank-you page gives their share link.
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/sign-on/confirm/\S+/)", message.body).group(1)
    visitor.goto(base + link)
    visitor.get_by_role("button", name="Confirm my sign-on").click()
    expect(visitor.get_by_test_id("thanks-for")).to_contain_text("Your name is on")
    share_url = visitor.get_by_label("Link to this slate").input_value()
    assert re.search(r"\?ref=[A-Za-z0-9_-]{8}$", share_url), share_url
    expect(visitor.get_by_test_id("brought")).to_have_count(0)

    # A friend opens the link in their own browser, logs in and pledges $50.
    friend = UserFactory()
    friend_page = new_page()
    log_in(friend_page, friend)
    friend_page.goto(share_url.replace("http://testserver", base))
    expect(friend_page.get_by_test_id("public-roll")).to_contain_text("Maya A.")
    friend_page.get_by_role("link", name="Pledge money").click()
    friend_page.get_by_role("button", name="$50", exact=True).click()
    friend_page.get_by_label("Your state").select_option("CA")
    attest(friend_page)
    friend_page.get_by_role("button", name="Continue to card").click()
    fill_card(friend_page)
    friend_page.get_by_role("button", name="Save card and pledge").click()
    expect(friend_page.get_by_role("heading", name="Bring one more person")).to_be_visible()

    # The first visitor's count rises.
    visitor.reload()
    expect(visitor.get_by_test_id("brought")).to_have_text(
        "You brought 1 person and $50. Thank you."
    )
    signer = Pledge.objects.get(kind="signon").supporter
    assert Referral.objects.get().referrer == signer
    assert Pledge.objects.get(supporter=friend).state == "committed"
