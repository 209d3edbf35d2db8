"""The volunteer demo data, and the pages: permissions, bad input, the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from pledges.models import Pledge
from tests.factories import UserFactory, make_open_slate, organizer_of, slate_candidates
from volunteers import shifts
from volunteers.models import Shift, ShiftSignup, VolunteerDetails

from .helpers import lock, make_shift, pledge_hours

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_has_volunteer_details_and_upcoming_shifts_for_the_signed_candidates():
    from candidates.selectors import valid_signatures
    from demo.seed import seed_demo
    from demo.story import DEMO_SLATE_SLUG
    from demo.volunteers import seed_volunteer_demo
    from slate.models import Slate

    seed_demo()
    assert seed_volunteer_demo() > 0
    assert seed_volunteer_demo() == 0  # idempotent
    slate = Slate.objects.get(slug=DEMO_SLATE_SLUG)
    volunteer_pledges = Pledge.objects.filter(slate=slate, kind="volunteer")
    assert volunteer_pledges.count() > 20
    assert VolunteerDetails.objects.filter(pledge__slate=slate).count() == volunteer_pledges.count()
    signed = set(valid_signatures(slate).values_list("candidate_id", flat=True))
    upcoming = Shift.objects.filter(event__slate=slate, starts_at__gt=timezone.now())
    assert {s.event.candidate_id for s in upcoming} == signed
    assert upcoming.filter(mode="in_person").exists() and upcoming.filter(mode="remote").exists()


def test_the_pledge_page_refuses_a_zip_that_does_not_exist(client):
    slate = make_open_slate()
    client.force_login(UserFactory())
    form = {"hours": "5", "activities": ["canvassing"], "zip_code": "00000", "idempotency_key": "a"}
    response = client.post(f"/slates/{slate.slug}/volunteer/", form)
    assert response.status_code == 400
    assert b"00000 is not a US ZIP code we know" in response.content
    response = client.post(f"/slates/{slate.slug}/volunteer/", {**form, "hours": "-2"})
    assert response.status_code == 400
    assert not Pledge.objects.exists()
    response = client.post(f"/slates/{slate.slug}/volunteer/", {**form, "zip_code": "94110"})
    assert response.status_code == 302
    assert response["Location"] == f"/slates/{slate.slug}/thanks/"
    assert VolunteerDetails.objects.get().mode == "either"


def test_signing_up_twice_through_the_page_says_so(client):
    slate = make_open_slate(candidates=2, min_signatures=2)
    person = pledge_hours(slate).supporter
    lock(slate)
    shift = make_shift(slate)
    client.force_login(person)
    client.post(f"/volunteer/shifts/{shift.pk}/sign-up/")
    response = client.post(f"/volunteer/shifts/{shift.pk}/sign-up/", follow=True)
    assert b"You are already signed up for this shift." in response.content
    assert ShiftSignup.objects.count() == 1


def test_a_shift_in_the_past_is_a_400_with_nothing_written(client):
    slate = make_open_slate(candidates=2, min_signatures=2)
    lock(slate)
    organizer = organizer_of(slate)
    event = shifts.create_event(slate=slate, actor=organizer, title="Canvass")
    client.force_login(organizer)
    yesterday = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/volunteer/events/{event.pk}/",
        {"starts_at": yesterday, "ends_at": yesterday, "activity": "canvassing",
         "mode": "remote", "call_link": "https://meet.example.org/x", "capacity": "5"},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"A shift must start in the future." in response.content
    assert not Shift.objects.exists()


def test_pages_for_organizers_and_campaigns_are_refused_to_others(client):
    slate = make_open_slate(candidates=2, min_signatures=2)
    lock(slate)
    event = shifts.create_event(slate=slate, actor=organizer_of(slate), title="Canvass")
    client.force_login(UserFactory())
    for url in (
        f"/volunteer/slates/{slate.slug}/summary/",
        f"/volunteer/slates/{slate.slug}/summary.csv",
        f"/volunteer/slates/{slate.slug}/events/",
        f"/volunteer/events/{event.pk}/",
        "/volunteer/campaign/",
    ):
        assert client.get(url).status_code == 403, url
    client.logout()
    assert client.get("/volunteer/").status_code == 302


def test_the_campaign_page_shows_hours_before_and_people_after_the_lock(client):
    slate = make_open_slate(candidates=2, min_signatures=2)
    california = slate_candidates(slate)[0]
    pledge_hours(slate, zip_code="94110", hours=9, share_contact=True, display_name="Ana Lopez")
    pledge_hours(slate, zip_code="90012", hours=4)
    client.force_login(california.user)
    before = client.get("/volunteer/campaign/").content.decode()
    assert "13 volunteer hours pledged in CA" in before and "Ana Lopez" not in before
    lock(slate)
    after = client.get("/volunteer/campaign/").content.decode()
    assert "Ana Lopez" in after and "(contact not shared)" in after


def test_the_csv_export_has_pledged_scheduled_and_delivered_per_level(client):
    slate = make_open_slate(candidates=2, min_signatures=2)
    people = [pledge_hours(slate, hours=h).supporter for h in (5, 7)]
    lock(slate)
    california = slate_candidates(slate)[0]
    shift = make_shift(slate, candidate=california, starts_in=timedelta(hours=3))
    signups = [shifts.sign_up(shift=shift, volunteer=p) for p in people]
    Shift.objects.filter(pk=shift.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    shifts.record_attendance(signup=signups[0], actor=organizer_of(slate), attended=True)
    client.force_login(organizer_of(slate))
    response = client.get(f"/volunteer/slates/{slate.slug}/summary.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_level = {(r["level"], r["id"]): r for r in rows}
    total = by_level[("slate", str(slate.pk))]
    assert (total["hours_pledged"], total["hours_scheduled"], total["hours_delivered"]) == (
        "12", "2.00", "2.00",
    )  # fmt: skip
    ca_row = by_level[("candidate", str(california.pk))]
    assert ca_row["hours_pledged"] == "12" and ca_row["hours_delivered"] == "2.00"


def test_campaign_staff_must_set_up_two_factor_before_the_campaign_pages(client):
    from volunteers.models import CampaignStaff

    slate = make_open_slate()
    staffer = UserFactory()
    CampaignStaff.objects.create(candidate=slate_candidates(slate)[0], user=staffer)
    client.force_login(staffer)
    response = client.get("/volunteer/campaign/")
    assert response.status_code == 302 and "/2fa/" in response["Location"]
    assert client.get("/volunteer/").status_code == 200  # their own volunteering is not guarded
