"""The whole money journey in Chromium: a supporter pledges with the test card through the
(fake) Stripe.js, candidates sign, the slate locks, the release captures the pledge."""

import pytest
from playwright.sync_api import expect

from pledges.declarations import ATTESTATIONS
from pledges.models import Pledge
from slate.states import SlateState
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)


def fill_card(page, number="4242424242424242"):
    for placeholder, value in (
        ("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123"),
        ("postal_code", "94110"),
    ):  # fmt: skip
        page.get_by_placeholder(placeholder, exact=True).fill(value)


def attest(page):
    """The five statements a supporter confirms before pledging money."""
    for _, text in ATTESTATIONS:
        page.get_by_label(text).check()


def test_pledge_with_card_then_lock_and_release(live_server, new_page, localstripe, log_in):
    slate = make_open_slate(candidates=3, min_signatures=2)
    first, second, _ = slate_candidates(slate)
    sign(first, slate)
    supporter = UserFactory()

    page = new_page()
    log_in(page, supporter)
    page.goto(live_server.url + slate.get_absolute_url())
    page.get_by_role("link", name="Pledge money").click()
    page.get_by_role("button", name="$50", exact=True).click()
    page.get_by_label("Your state").select_option("CA")
    expect(page.get_by_text("nothing is charged: any authorization")).to_be_visible()
    attest(page)
    page.get_by_role("button", name="Continue to card").click()
    expect(page.get_by_role("heading", name="Save your card")).to_be_visible()
    fill_card(page)
    page.get_by_role("button", name="Save card and pledge").click()
    expect(page.get_by_text("Your card is saved")).to_be_visible()
    # The thank-you page asks them to bring someone; their pledges are one click away.
    expect(page.get_by_role("heading", name="Bring one more person")).to_be_visible()
    page.goto(live_server.url + "/pledges/")
    pledge = Pledge.objects.get(supporter=supporter)
    expect(page.get_by_test_id(f"pledge-{pledge.pk}").get_by_test_id("state")).to_have_text(
        "Committed"
    )
    assert pledge.amount_cents == 5_000

    # The second candidate reads what waits for them, and signs.
    candidate_page = new_page()
    second.user.set_password("pw-for-tests")
    second.user.save()
    log_in(candidate_page, second.user)
    candidate_page.goto(live_server.url + "/candidate/")
    expect(candidate_page.get_by_test_id("waiting")).to_contain_text("$50")
    candidate_page.get_by_role("link", name="Read and sign the agreement").click()
    candidate_page.get_by_label("Type your full name to sign").fill(second.full_name)
    candidate_page.get_by_label("I have read this version").check()
    candidate_page.get_by_role("button", name="Sign the agreement").click()
    expect(candidate_page.get_by_text(f"You signed the {slate.name} agreement")).to_be_visible()

    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    page.reload()
    expect(page.get_by_test_id(f"pledge-{pledge.pk}").get_by_test_id("state")).to_have_text(
        "Captured"
    )
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1

    # The candidate sees their half, recorded for the treasurer (no Connect account).
    candidate_page.goto(live_server.url + "/candidate/")
    candidate_page.get_by_role("link", name="Money sent to you").click()
    expect(candidate_page.get_by_test_id("payouts")).to_contain_text("$25")
    expect(candidate_page.get_by_test_id("payouts")).to_contain_text("With the treasurer")


def test_declined_card_shows_an_error_and_keeps_the_pledge_waiting(
    live_server, page, localstripe, log_in
):
    slate = make_open_slate()
    supporter = UserFactory()
    log_in(page, supporter)
    page.goto(live_server.url + f"/slates/{slate.slug}/pledge/")
    page.get_by_label("Amount in dollars").fill("25")
    page.get_by_label("Your state").select_option("NY")
    attest(page)
    page.get_by_role("button", name="Continue to card").click()
    fill_card(page, number="4000000000000002")
    page.get_by_role("button", name="Save card and pledge").click()
    expect(page.locator("#card-errors")).to_contain_text("declined")
    assert Pledge.objects.get(supporter=supporter).state == "pending_card"


@pytest.mark.parametrize(
    ("amount", "message"),
    [("abc", "Enter an amount in dollars"), ("0.5", "Pledge between"), ("10.001", "two decimal")],
)
def test_bad_amounts_are_explained_beside_the_field(live_server, page, log_in, amount, message):
    slate = make_open_slate()
    log_in(page, UserFactory())
    page.goto(live_server.url + f"/slates/{slate.slug}/pledge/")
    page.get_by_label("Amount in dollars").fill(amount)
    page.get_by_label("Your state").select_option("TX")
    page.get_by_role("button", name="Continue to card").click()
    expect(page.locator("#id_amount-error")).to_contain_text(message)
    assert not Pledge.objects.exists()


def test_a_split_behind_more_options_is_kept_through_a_mistake(
    live_server, page, localstripe, log_in
):
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    supporter = UserFactory()
    log_in(page, supporter)
    page.goto(live_server.url + f"/slates/{slate.slug}/pledge/")
    first_share = page.get_by_label(f"{first.full_name}, percent")
    second_share = page.get_by_label(f"{second.full_name}, percent")
    expect(first_share).to_be_hidden()  # behind the disclosure until asked for
    page.get_by_text("More options", exact=True).click()
    page.get_by_role("button", name="$100", exact=True).click()
    page.get_by_label("Your state").select_option("OR")
    first_share.fill("70")
    second_share.fill("20")  # the mistake: 90 in all
    expect(page.locator("[data-split-total] output")).to_have_text("90")
    attest(page)
    page.get_by_role("button", name="Continue to card").click()

    expect(page.locator("#id_allocation-error")).to_contain_text("must add up to 100%")
    # The page came back with the options open and everything as it was typed.
    expect(first_share).to_be_visible()
    expect(page.get_by_label("Amount in dollars")).to_have_value("100")
    expect(page.get_by_label("Your state")).to_have_value("OR")
    expect(first_share).to_have_value("70")
    expect(second_share).to_have_value("20")
    assert not Pledge.objects.exists()

    second_share.fill("30")
    page.get_by_role("button", name="Continue to card").click()
    expect(page.get_by_role("heading", name="Save your card")).to_be_visible()
    pledge = Pledge.objects.get(supporter=supporter)
    assert pledge.amount_cents == 10_000
    assert {a.candidate_id: a.weight_bps for a in pledge.allocations.all()} == {
        first.pk: 7_000,
        second.pk: 3_000,
    }
