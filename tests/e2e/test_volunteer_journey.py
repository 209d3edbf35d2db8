"""The volunteer journey in Chromium: pledge hours, the slate locks, see the match, sign up
for a shift; the organizer marks it delivered and the delivered hours change."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import UserFactory, make_open_slate, organizer_of, sign, slate_candidates
from volunteers import shifts
from volunteers.models import Shift, VolunteerMatch

pytestmark = pytest.mark.django_db(transaction=True)


def test_pledge_hours_lock_match_sign_up_and_deliver(live_server, new_page, log_in):
    slate = make_open_slate(candidates=3, min_signatures=2)
    california, new_york, _ = slate_candidates(slate)
    sign(california, slate)
    volunteer = UserFactory()

    page = new_page()
    log_in(page, volunteer)
    page.goto(live_server.url + slate.get_absolute_url())
    page.get_by_role("link", name="Volunteer", exact=True).click()
    page.get_by_label("Hours you will give").fill("-4")
    page.get_by_label("Phone banking").check()
    page.get_by_label("ZIP code").fill("00000")
    page.get_by_label("How you will help").select_option("in_person")
    page.get_by_role("button", name="Pledge my hours").click()
    expect(page.get_by_text("greater than or equal to 1")).to_be_visible()
    page.get_by_label("Hours you will give").fill("6")
    page.get_by_role("button", name="Pledge my hours").click()
    expect(page.get_by_text("00000 is not a US ZIP code we know")).to_be_visible()
    page.get_by_label("ZIP code").fill("94110")
    page.get_by_label("Languages").fill("Spanish")
    page.get_by_label("share my name, email and phone").check()
    page.get_by_role("button", name="Pledge my hours").click()
    expect(page.get_by_role("heading", name="Bring one more person")).to_be_visible()
    page.get_by_role("link", name="Your volunteering").click()
    expect(page.get_by_text("Your 6 hours are waiting for 1 more signature.")).to_be_visible()

    sign(new_york, slate)  # the second signature locks the slate
    page.reload()
    match = VolunteerMatch.objects.get(pledge__supporter=volunteer)
    expect(page.get_by_test_id("matched-to")).to_contain_text(california.full_name)
    expect(page.get_by_text("Why: In person")).to_be_visible()

    organizer = organizer_of(slate)
    event = shifts.create_event(
        slate=slate, actor=organizer, title="Mission canvass", candidate=california
    )
    start = timezone.now() + timedelta(days=2)
    shift = shifts.add_shift(
        event=event, actor=organizer, starts_at=start, ends_at=start + timedelta(hours=3),
        activity="canvassing", mode="in_person", capacity=5, location="2000 Mission St",
        zip_code="94110",
    )  # fmt: skip
    page.get_by_role("link", name="Find a shift").click()
    expect(page.get_by_test_id(f"shift-{shift.pk}")).to_contain_text("2000 Mission St")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("You are signed up")).to_be_visible()
    expect(page.get_by_test_id(f"shift-{shift.pk}").get_by_test_id("places")).to_have_text(
        "4 of 5 places left"
    )
    page.goto(live_server.url + "/volunteer/")
    expect(
        page.get_by_text("Mission canvass").or_(page.get_by_text("Canvassing with"))
    ).to_be_visible()
    expect(page.get_by_test_id("delivered-hours")).to_have_text("0.0")

    # The shift takes place (its times move into the past), and the organizer marks it.
    Shift.objects.filter(pk=shift.pk).update(
        starts_at=timezone.now() - timedelta(hours=4), ends_at=timezone.now() - timedelta(hours=1)
    )
    organizer_page = new_page()
    log_in(organizer_page, organizer)
    organizer_page.goto(live_server.url + f"/volunteer/slates/{slate.slug}/summary/")
    expect(organizer_page.get_by_test_id("delivered")).to_have_text("0.0")
    organizer_page.goto(live_server.url + f"/volunteer/events/{event.pk}/")
    organizer_page.get_by_label("Hours delivered").fill("2.5")
    organizer_page.get_by_role("button", name="Mark").click()
    expect(organizer_page.get_by_text("Attendance saved")).to_be_visible()
    expect(organizer_page.get_by_test_id("attendance")).to_have_text("attended, 150 min")
    organizer_page.goto(live_server.url + f"/volunteer/slates/{slate.slug}/summary/")
    expect(organizer_page.get_by_test_id("delivered")).to_have_text("2.5")

    page.reload()
    expect(page.get_by_test_id("delivered-hours")).to_have_text("2.5")
    assert match.pk
