"""The home page lists open slates with live totals that update without a reload."""

import pytest
from playwright.sync_api import expect

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_totals_update_live(live_server, page):
    slate = make_open_slate(candidates=4, min_signatures=3)
    sign(slate_candidates(slate)[0], slate)
    page.goto(live_server.url + "/")
    card = page.locator(f"#progress-{slate.slug}")
    expect(page.get_by_role("link", name=slate.name)).to_be_visible()
    expect(card.get_by_test_id("money")).to_have_text("$0")
    expect(card.get_by_test_id("signed")).to_have_text("1")

    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=12_550
    )
    pledge_services.commit_money_pledge(pledge=pledge)
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=12, activities=["canvassing"],
        zip_code="73301",
    )  # fmt: skip

    # The fragment polls every 5 seconds; no reload happens here.
    expect(card.get_by_test_id("money")).to_have_text("$125.50", timeout=15_000)
    expect(card.get_by_test_id("hours")).to_have_text("12")
    expect(card.get_by_test_id("supporters")).to_have_text("2")


def test_slate_page_shows_planks_candidates_and_missing_signatures(live_server, page):
    slate = make_open_slate(candidates=3, min_signatures=2)
    signed = slate_candidates(slate)[0]
    sign(signed, slate)
    page.goto(live_server.url + slate.get_absolute_url())
    expect(page.get_by_role("heading", name=slate.name)).to_be_visible()
    expect(page.get_by_text("Universal health care", exact=True).first).to_be_visible()
    expect(page.get_by_text(f"{signed.full_name}").first).to_be_visible()
    expect(page.get_by_text("1 more candidate signature(s) needed")).to_be_visible()


def test_a_draft_slate_is_not_public(live_server, page):
    from tests.factories import make_draft_slate

    slate = make_draft_slate()
    response = page.goto(live_server.url + slate.get_absolute_url())
    assert response.status == 404
