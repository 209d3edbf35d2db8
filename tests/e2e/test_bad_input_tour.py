"""A bad-input tour in Chromium: each mistake shows a clear message and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from candidates.models import Signature
from escrow.models import CardSetup
from pledges.models import Pledge
from slate import lifecycle as slate_lifecycle
from slate.states import SlateState
from tests.e2e.test_money_journey import attest, fill_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)


def start_pledge(page, base, slate, dollars="25", state="CA"):
    page.goto(base + f"/slates/{slate.slug}/pledge/")
    page.get_by_label("Amount in dollars").fill(dollars)
    page.get_by_label("Your state").select_option(state)
    attest(page)


def test_an_empty_pledge_form_names_each_missing_field(live_server, page, log_in):
    slate = make_open_slate()
    log_in(page, UserFactory())
    page.goto(live_server.url + f"/slates/{slate.slug}/pledge/")
    page.get_by_role("button", name="Continue to card").click()
    expect(page.locator("#id_amount-error")).to_contain_text("required")
    expect(page.locator("#id_supporter_state-error")).to_contain_text("required")
    expect(page.locator("#id_personal_card-error")).to_contain_text("Confirm this to pledge")
    assert not Pledge.objects.exists()


def test_invalid_volunteer_fields_are_explained(live_server, page, log_in):
    slate = make_open_slate()
    log_in(page, UserFactory())
    page.goto(live_server.url + f"/slates/{slate.slug}/volunteer/")
    page.get_by_label("Hours you will give").fill("-3")
    page.get_by_role("button", name="Pledge my hours").click()
    expect(page.locator("#id_hours-error")).to_contain_text("greater than or equal to 1")
    page.get_by_label("Hours you will give").fill("4")
    page.get_by_label("Canvassing").check()
    page.get_by_label("Your state").select_option("OH")
    page.get_by_label("ZIP code").fill("nope")
    page.get_by_role("button", name="Pledge my hours").click()
    expect(page.locator("#id_zip_code-error")).to_contain_text("ZIP")
    assert not Pledge.objects.exists()


def test_a_declined_card_is_explained_and_another_card_then_works(
    live_server, page, localstripe, log_in
):
    slate = make_open_slate()
    supporter = UserFactory()
    log_in(page, supporter)
    start_pledge(page, live_server.url, slate)
    page.get_by_role("button", name="Continue to card").click()
    fill_card(page, number="4000000000000002")
    page.get_by_role("button", name="Save card and pledge").click()
    expect(page.locator("#card-errors")).to_contain_text("declined")
    pledge = Pledge.objects.get(supporter=supporter)
    assert pledge.state == "pending_card"
    assert not CardSetup.objects.filter(pledge=pledge, status="succeeded").exists()
    fill_card(page)
    page.get_by_role("button", name="Save card and pledge").click()
    expect(page.get_by_text("Your card is saved")).to_be_visible()
    assert Pledge.objects.get(supporter=supporter).state == "committed"


def test_a_double_clicked_submit_makes_one_pledge(live_server, page, localstripe, log_in):
    slate = make_open_slate()
    supporter = UserFactory()
    log_in(page, supporter)
    start_pledge(page, live_server.url, slate, dollars="40")
    page.get_by_role("button", name="Continue to card").dblclick()
    expect(page.get_by_role("heading", name="Save your card")).to_be_visible()
    fill_card(page)
    page.get_by_role("button", name="Save card and pledge").dblclick()
    expect(page.get_by_text("Your card is saved")).to_be_visible()
    [pledge] = Pledge.objects.filter(supporter=supporter)
    assert pledge.amount_cents == 4_000 and pledge.state == "committed"
    assert CardSetup.objects.filter(pledge=pledge, status="succeeded").count() == 1


def test_a_pledge_to_an_expired_slate_is_refused(live_server, page, log_in):
    slate = make_open_slate()
    supporter = UserFactory()
    log_in(page, supporter)
    start_pledge(page, live_server.url, slate)
    # The deadline passes while the supporter is on the form.
    slate_lifecycle.expire_slate_if_overdue(
        slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
    )
    slate.refresh_from_db()
    assert slate.state in (SlateState.EXPIRED, SlateState.VOIDED)
    page.get_by_role("button", name="Continue to card").click()
    expect(page.get_by_text("This slate is not accepting pledges right now.")).to_be_visible()
    assert not Pledge.objects.filter(supporter=supporter).exists()


def test_a_signature_cannot_be_withdrawn_after_the_lock(live_server, page, log_in):
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    sign(first, slate)
    log_in(page, first.user)
    page.goto(live_server.url + f"/candidate/slates/{slate.slug}/withdraw/")
    sign(second, slate)  # the second signature locks the slate meanwhile
    slate.refresh_from_db()
    assert slate.state != SlateState.OPEN
    page.get_by_role("button", name="Withdraw my signature").click()
    expect(page.get_by_text("The slate has locked; signatures are final.")).to_be_visible()
    assert Signature.objects.get(candidate=first, slate=slate).withdrawn_at is None
    assert slate.locked_at is not None and slate.locked_at <= timezone.now()
