"""Shift times in local time: entered and shown in the time zone of their place (from the
ZIP code; remote shifts in the host's zone), with the zone named, and .ics files carry it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from slate import geo
from tests.factories import make_open_slate, organizer_of, slate_candidates
from tests.volunteers.helpers import lock
from volunteers import shifts
from volunteers.models import Shift
from volunteers.notifications import shift_ics

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1


@pytest.fixture
def event():
    slate = make_open_slate(candidates=2, min_signatures=2)
    lock(slate)
    return shifts.create_event(slate=slate, actor=organizer_of(slate), title="Summer canvass")


def form(**fields):
    return {
        "starts_at": f"{NEXT_YEAR}-07-10T10:00", "ends_at": f"{NEXT_YEAR}-07-10T12:30",
        "activity": "canvassing", "mode": "in_person", "location": "1 Main St",
        "zip_code": "60601", "capacity": "5", **fields,
    }  # fmt: skip


def organizer_client(event) -> Client:
    client = Client()
    client.force_login(organizer_of(event.slate))
    return client


def test_zip_codes_map_to_their_time_zones_including_split_states():
    assert geo.zip_time_zone("10001") == "America/New_York"
    assert geo.zip_time_zone("60601") == "America/Chicago"
    assert geo.zip_time_zone("85001") == "America/Phoenix"
    assert geo.zip_time_zone("79901") == "America/Denver"  # El Paso, not Texas's Central
    assert geo.zip_time_zone("32501") == "America/Chicago"  # Pensacola, not Florida's Eastern
    assert geo.zip_time_zone("37203") == "America/Chicago"  # Nashville
    assert geo.zip_time_zone("37902") == "America/New_York"  # Knoxville
    assert geo.zip_time_zone("00000") is None


def test_an_in_person_shift_is_entered_and_shown_in_the_places_zone(event):
    client = organizer_client(event)
    url = f"/volunteer/events/{event.pk}/"
    page = client.get(url).content.decode()
    assert "Starts (local time)" in page
    response = client.post(url, form())
    assert response.status_code == 302, response.content
    shift = Shift.objects.get()
    assert shift.time_zone == "America/Chicago"
    # 10:00 in Chicago in July (CDT, UTC-5) is 15:00 UTC.
    assert shift.starts_at == datetime(NEXT_YEAR, 7, 10, 15, 0, tzinfo=UTC)
    page = client.get(url).content.decode()
    assert "10:00–12:30 CDT" in page and "UTC" not in page


def test_a_remote_shift_takes_the_hosts_zone_or_the_one_chosen(event):
    client = organizer_client(event)
    url = f"/volunteer/events/{event.pk}/"
    remote = {"mode": "remote", "call_link": "https://meet.example.org/x", "zip_code": ""}
    client.post(url, form(**remote))
    hosts = shifts.host_time_zone(event)
    states = {c.state for c in slate_candidates(event.slate)}
    assert hosts in {geo.state_time_zone(s) for s in states}
    assert Shift.objects.get().time_zone == hosts

    client.post(url, form(**remote, time_zone="Pacific/Honolulu"))
    shift = Shift.objects.latest("pk")
    assert shift.time_zone == "Pacific/Honolulu"
    assert shift.starts_at == datetime(NEXT_YEAR, 7, 10, 20, 0, tzinfo=UTC)  # HST is UTC-10
    assert "10:00–12:30 HST" in client.get(url).content.decode()

    candidate = slate_candidates(event.slate)[0]
    campaign = shifts.create_event(
        slate=event.slate, actor=organizer_of(event.slate), title="Calls", candidate=candidate
    )
    start = timezone.now() + timedelta(days=5)
    shift = shifts.add_shift(
        event=campaign, actor=organizer_of(event.slate), starts_at=start.replace(tzinfo=None),
        ends_at=(start + timedelta(hours=1)).replace(tzinfo=None), activity="phone_banking",
        mode="remote", call_link="https://meet.example.org/y", capacity=3,
    )  # fmt: skip
    assert shift.time_zone == geo.state_time_zone(candidate.state)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mode": "remote", "call_link": "https://m.example.org/x", "time_zone": "Mars/Base"},
         "time_zone", "valid choice"),
        ({"zip_code": "00000"}, "zip_code", "ZIP"),
        # The clocks skip 02:00-03:00 on the second Sunday of March.
        ({"starts_at": f"{NEXT_YEAR}-03-{8 + (6 - datetime(NEXT_YEAR, 3, 8).weekday())}T02:30"},
         "starts_at", "does not exist"),
    ],
)  # fmt: skip
def test_bad_times_and_zones_are_field_errors_and_add_no_shift(event, fields, field, message):
    response = organizer_client(event).post(f"/volunteer/events/{event.pk}/", form(**fields))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Shift.objects.exists()


def test_the_ics_file_carries_the_time_zone(event):
    organizer_client(event).post(f"/volunteer/events/{event.pk}/", form())
    ics = shift_ics(Shift.objects.get())
    lines = ics.split("\r\n")
    assert f"DTSTART;TZID=America/Chicago:{NEXT_YEAR}0710T100000" in lines
    assert f"DTEND;TZID=America/Chicago:{NEXT_YEAR}0710T123000" in lines
    block = lines[lines.index("BEGIN:VTIMEZONE") : lines.index("END:VTIMEZONE") + 1]
    assert "TZID:America/Chicago" in block
    assert "TZOFFSETTO:-0500" in block and "TZOFFSETTO:-0600" in block
    assert "TZNAME:CDT" in block and "TZNAME:CST" in block
    assert lines.index("END:VTIMEZONE") < lines.index("BEGIN:VEVENT")


def test_a_zone_without_daylight_saving_has_one_observance(event):
    organizer_client(event).post(
        f"/volunteer/events/{event.pk}/", form(zip_code="85001", location="Phoenix")
    )
    lines = shift_ics(Shift.objects.get()).split("\r\n")
    assert f"DTSTART;TZID=America/Phoenix:{NEXT_YEAR}0710T100000" in lines
    assert "BEGIN:DAYLIGHT" not in lines and "TZOFFSETTO:-0700" in lines
