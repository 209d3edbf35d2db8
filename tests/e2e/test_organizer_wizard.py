"""An organizer creates a slate through the wizard in Chromium, publishes it, and watches the
dashboard's figures change without a reload when a pledge arrives."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate.models import Slate
from tests.factories import UserFactory, make_open_slate, organizer_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_wizard_publish_then_dashboard_follows_a_new_pledge(live_server, page, log_in):
    # An organizer whose earlier slate went public: the next one publishes without review
    # (a new organizer's first slate waits for staff: tests/organizing/test_review_and_organizers).
    organizer = organizer_of(make_open_slate(candidates=1, min_signatures=1))
    log_in(page, organizer)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Start a slate").click()

    page.get_by_label("Name of the slate").fill("Prairie Coordinated Slate")
    page.get_by_label("Mission").fill("Five prairie races, one program.")
    deadline = (timezone.now() + timedelta(days=45)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Deadline").fill(deadline)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Planks")).to_be_visible()
    page.locator("#id_planks-0-title").fill("Universal health care")
    page.locator("#id_planks-1-title").fill("Clean water")
    page.get_by_role("button", name="Save and continue").click()

    for name, state in (("Ada Prairie", "NE"), ("Ben Plains", "KS")):
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Office", exact=True).select_option("house")
        page.get_by_label("State", exact=True).select_option(state)
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(page.get_by_text(f"{name} is invited")).to_be_visible()
    expect(page.get_by_test_id("claim-link")).to_have_count(2)
    page.get_by_role("link", name="Continue: threshold rule").click()

    page.get_by_label("Signatures needed (K)").fill("2")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Agreement text").fill("We campaign together and vote as a bloc.")
    page.get_by_role("button", name="Save and preview").click()

    expect(page.get_by_text("We campaign together and vote as a bloc.")).to_be_visible()
    page.get_by_role("button", name="Publish the slate").click()
    expect(page.get_by_text("is published")).to_be_visible()
    slate = Slate.objects.get(name="Prairie Coordinated Slate")
    assert slate.state == "open"
    expect(page.get_by_test_id("money-committed")).to_have_text("$0")
    expect(page.get_by_test_id("signed")).to_have_text("0")
    expect(page.get_by_test_id("missing")).to_contain_text("Ada Prairie")
    expect(page.locator("#growth-chart")).to_be_visible()

    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=UserFactory(),
        slate=slate,
        amount_cents=5_000,
        supporter_state="NE",
    )
    pledge_services.commit_money_pledge(pledge=pledge)
    # The live section polls every 5 seconds; the page is not reloaded.
    expect(page.get_by_test_id("money-committed")).to_have_text("$50", timeout=15_000)
    expect(page.get_by_test_id("supporters")).to_have_text("1")
    assert page.evaluate("window.Chart !== undefined")
