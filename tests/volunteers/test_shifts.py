"""Events and shifts: who may run them, sign-ups and the waitlist, attendance, reminders."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.factories import (
    UserFactory,
    make_open_slate,
    make_staff,
    organizer_of,
    slate_candidates,
)
from volunteers import hours as volunteer_hours
from volunteers import reminders, selectors, shifts
from volunteers.errors import VolunteerError
from volunteers.models import CampaignStaff, Shift, ShiftReminder, ShiftSignup, VolunteerEvent

from .helpers import lock, locked_slate, make_shift, pledge_hours

pytestmark = pytest.mark.django_db(transaction=True)


def volunteers_of(slate, count, **kwargs):
    return [pledge_hours(slate, **kwargs).supporter for _ in range(count)]


@pytest.fixture
def slate_with_volunteers():
    slate = make_open_slate(candidates=3, min_signatures=2)
    people = volunteers_of(slate, 4)
    lock(slate)
    return slate, people


def test_who_may_create_events():
    slate = make_open_slate(candidates=3, min_signatures=2)
    signed, _, unsigned = slate_candidates(slate)
    lock(slate, signers=slate_candidates(slate)[:2])
    staffer = UserFactory()
    CampaignStaff.objects.create(candidate=signed, user=staffer)
    assert shifts.create_event(slate=slate, actor=staffer, title="Canvass", candidate=signed)
    assert shifts.create_event(slate=slate, actor=signed.user, title="Phones", candidate=signed)
    assert shifts.create_event(slate=slate, actor=organizer_of(slate), title="Slate-wide")
    for actor, candidate in ((unsigned.user, unsigned), (UserFactory(), signed), (staffer, None)):
        with pytest.raises(VolunteerError, match="may not host"):
            shifts.create_event(slate=slate, actor=actor, title="Nope", candidate=candidate)
    assert VolunteerEvent.objects.count() == 3


def test_a_partner_organizations_admin_may_host_for_an_endorsing_organization():
    from slate import partners as slate_partners

    slate = make_open_slate(candidates=2, min_signatures=2)
    admin = UserFactory()
    org = slate_partners.create_partner_organization(name="Local 9", kind="union", admin=admin)
    slate_partners.endorse_slate(organization=org, slate=slate, actor=admin)
    lock(slate)
    with pytest.raises(VolunteerError):  # not before staff verify the organization
        shifts.create_event(slate=slate, actor=admin, title="Union hall", organization=org)
    slate_partners.verify_partner_organization(organization=org, actor=make_staff())
    assert shifts.create_event(slate=slate, actor=admin, title="Union hall", organization=org)


def test_shifts_are_planned_before_the_lock_but_sign_ups_wait_for_it():
    slate = make_open_slate(candidates=2, min_signatures=2)
    person = pledge_hours(slate).supporter
    shift = make_shift(slate)
    with pytest.raises(VolunteerError, match="once the slate has locked"):
        shifts.sign_up(shift=shift, volunteer=person)
    assert not ShiftSignup.objects.exists()
    lock(slate)
    assert shifts.sign_up(shift=shift, volunteer=person).status == "confirmed"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_in": timedelta(hours=-1)}, "starts_at", "must start in the future"),
        ({"capacity": 0}, "capacity", "between 1 and"),
        ({"capacity": -5}, "capacity", "between 1 and"),
        ({"mode": "in_person", "zip_code": "00000"}, "zip_code", "not a US ZIP code"),
        ({"mode": "in_person", "location": ""}, "location", "address"),
        ({"call_link": "javascript:alert(1)"}, "call_link", "call link"),
        ({"activity": "juggling"}, "activity", "Choose an activity"),
    ],
)
def test_bad_shifts_are_refused_clearly_and_write_nothing(changes, field, message):
    slate = locked_slate(candidates=2, min_signatures=2)
    with pytest.raises(VolunteerError) as refused:
        make_shift(slate, **changes)
    assert (refused.value.field, message in refused.value.message) == (field, True)
    assert not Shift.objects.exists()


def test_sign_up_then_twice_is_refused_and_changes_nothing(slate_with_volunteers):
    slate, (first, *_) = slate_with_volunteers
    shift = make_shift(slate, capacity=2)
    signup = shifts.sign_up(shift=shift, volunteer=first)
    assert signup.status == "confirmed"
    with pytest.raises(VolunteerError, match="already signed up"):
        shifts.sign_up(shift=shift, volunteer=first)
    shift.refresh_from_db()
    assert shift.confirmed_count == 1 and ShiftSignup.objects.count() == 1


def test_only_the_slates_volunteers_sign_up_and_not_for_a_past_shift(slate_with_volunteers):
    slate, (first, *_) = slate_with_volunteers
    shift = make_shift(slate)
    with pytest.raises(VolunteerError, match="pledged hours"):
        shifts.sign_up(shift=shift, volunteer=UserFactory())
    with pytest.raises(VolunteerError, match="already started"):
        shifts.sign_up(shift=shift, volunteer=first, now=shift.starts_at + timedelta(minutes=1))
    assert not ShiftSignup.objects.exists()


def test_a_full_shift_waitlists_and_a_cancellation_promotes_the_first_waiting(
    slate_with_volunteers,
):
    slate, (a, b, c, d) = slate_with_volunteers
    shift = make_shift(slate, capacity=2)
    signups = [shifts.sign_up(shift=shift, volunteer=v) for v in (a, b, c, d)]
    assert [s.status for s in signups] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    mail.outbox.clear()
    shifts.cancel_signup(signup=signups[0], actor=a)
    statuses = dict(ShiftSignup.objects.values_list("volunteer_id", "status"))
    assert statuses == {a.pk: "cancelled", b.pk: "confirmed", c.pk: "confirmed", d.pk: "waitlisted"}
    shift.refresh_from_db()
    assert shift.confirmed_count == 2
    [email] = mail.outbox
    assert email.to == [c.email] and "confirmed" in email.subject
    assert email.attachments[0][0] == f"shift-{shift.pk}.ics"
    # Cancelling a waitlisted sign-up promotes nobody; cancelling twice is harmless.
    shifts.cancel_signup(signup=signups[3], actor=d)
    shifts.cancel_signup(signup=signups[3], actor=d)
    shift.refresh_from_db()
    assert shift.confirmed_count == 2
    # A cancelled volunteer may sign up again, at the back of the queue.
    assert shifts.sign_up(shift=shift, volunteer=a).status == "waitlisted"
    with pytest.raises(VolunteerError, match="only your own"):
        shifts.cancel_signup(signup=signups[1], actor=d)


def test_fifty_concurrent_sign_ups_for_ten_places_never_exceed_capacity():
    slate = make_open_slate(candidates=2, min_signatures=2)
    people = volunteers_of(slate, 50)
    lock(slate)
    shift = make_shift(slate, capacity=10)
    barrier = threading.Barrier(50)

    def attempt(person):
        try:
            barrier.wait()
            return shifts.sign_up(shift=shift, volunteer=person).status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, people))
    assert outcomes.count("confirmed") == 10
    assert outcomes.count("waitlisted") == 40
    shift.refresh_from_db()
    assert shift.confirmed_count == 10
    assert ShiftSignup.objects.filter(shift=shift, status="confirmed").count() == 10


def test_attendance_is_marked_by_the_hosts_and_counts_as_delivered(slate_with_volunteers):
    slate, (a, b, *_) = slate_with_volunteers
    shift = make_shift(slate, starts_in=timedelta(hours=2))
    first = shifts.sign_up(shift=shift, volunteer=a)
    second = shifts.sign_up(shift=shift, volunteer=b)
    organizer = organizer_of(slate)
    before = volunteer_hours.hours_for_slate(slate)
    assert (before.scheduled_minutes, before.delivered_minutes) == (240, 0)
    with pytest.raises(VolunteerError, match="once the shift has started"):
        shifts.record_attendance(signup=first, actor=organizer, attended=True)
    later = shift.starts_at + timedelta(hours=3)
    with pytest.raises(VolunteerError, match="hosts and the organizers"):
        shifts.record_attendance(signup=first, actor=b, attended=True, now=later)
    with pytest.raises(VolunteerError, match="between 1 minute"):
        shifts.record_attendance(
            signup=first, actor=organizer, attended=True, delivered_minutes=-60, now=later
        )
    shifts.record_attendance(signup=first, actor=organizer, attended=True, now=later)
    shifts.record_attendance(signup=second, actor=organizer, attended=False, now=later)
    after = volunteer_hours.hours_for_slate(slate)
    assert (after.scheduled_minutes, after.delivered_minutes) == (0, 120)
    assert volunteer_hours.hours_for_volunteer(a).delivered_minutes == 120
    # The organizer's live dashboard shows the delivered time next to the pledged hours.
    client = Client()
    client.force_login(organizer)
    live = client.get(reverse("organize:live", args=[slate.slug]))
    assert live.status_code == 200
    assert "0.0 h scheduled, 2.0 h delivered" in live.content.decode()
    assert volunteer_hours.hours_for_volunteer(b).delivered_minutes == 0


def test_reminders_go_once_a_day_and_once_an_hour_before_even_when_run_twice(
    slate_with_volunteers,
):
    slate, (a, b, c, _) = slate_with_volunteers
    soon = make_shift(slate, starts_in=timedelta(hours=20))
    later = make_shift(slate, starts_in=timedelta(days=3))
    shifts.sign_up(shift=soon, volunteer=a)
    shifts.sign_up(shift=soon, volunteer=b)
    shifts.sign_up(shift=later, volunteer=c)
    mail.outbox.clear()

    assert reminders.send_due_reminders() == 2
    assert reminders.send_due_reminders() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a.email, b.email])
    assert all(m.subject.startswith("Tomorrow") for m in mail.outbox)
    ics = mail.outbox[0].attachments[0]
    assert ics[2] == "text/calendar" and "BEGIN:VEVENT" in ics[1] and "\r\n" in ics[1]
    assert f"UID:shift-{soon.pk}@slate" in ics[1]

    an_hour_before = soon.starts_at - timedelta(minutes=50)
    assert reminders.send_due_reminders(now=an_hour_before) == 2
    assert reminders.send_due_reminders(now=an_hour_before) == 0
    assert ShiftReminder.objects.count() == 4
    assert [m.subject for m in mail.outbox[2:]] == ["In an hour: your volunteer shift"] * 2


def test_two_reminder_jobs_at_once_send_each_reminder_once(slate_with_volunteers):
    slate, people = slate_with_volunteers
    shift = make_shift(slate, starts_in=timedelta(hours=5), capacity=10)
    for person in people:
        shifts.sign_up(shift=shift, volunteer=person)
    mail.outbox.clear()
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            return reminders.send_due_reminders()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(lambda _: run(), range(2)))
    assert sum(sent) == 4
    assert len(mail.outbox) == 4
    assert ShiftReminder.objects.count() == 4


def test_a_cancelled_signup_gets_no_reminder(slate_with_volunteers):
    slate, (a, *_) = slate_with_volunteers
    shift = make_shift(slate, starts_in=timedelta(hours=10))
    signup = shifts.sign_up(shift=shift, volunteer=a)
    shifts.cancel_signup(signup=signup, actor=a)
    mail.outbox.clear()
    assert reminders.send_due_reminders() == 0
    assert mail.outbox == []


def test_browse_shows_shifts_near_me_and_remote(slate_with_volunteers):
    slate, (ca_volunteer, *_) = slate_with_volunteers  # pledged from 94110
    near = make_shift(slate, mode="in_person", zip_code="94103", location="Mission St")
    same_state = make_shift(slate, mode="in_person", zip_code="90012", location="Spring St")
    far = make_shift(slate, mode="in_person", zip_code="10001", location="Broadway")
    remote = make_shift(slate)
    listed = selectors.shifts_for_volunteer(ca_volunteer, slate)
    assert [row.shift for row in listed] == [near, same_state]
    assert listed[0].miles < 5
    assert far not in [row.shift for row in listed]
    remote_listed = selectors.shifts_for_volunteer(ca_volunteer, slate, mode="remote")
    assert [row.shift for row in remote_listed] == [remote]


def test_a_roster_shows_contact_details_only_to_the_campaign_the_volunteer_is_matched_to():
    slate = make_open_slate(candidates=2, min_signatures=2)
    california, new_york = slate_candidates(slate)
    consenting = pledge_hours(
        slate, zip_code="94110", mode="in_person", share_contact=True, display_name="Ana"
    ).supporter
    private = pledge_hours(slate, zip_code="90012", mode="in_person").supporter
    lock(slate)
    ca_shift = make_shift(slate, actor=california.user, candidate=california)
    ny_shift = make_shift(slate, actor=new_york.user, candidate=new_york)
    for shift in (ca_shift, ny_shift):
        for person in (consenting, private):
            shifts.sign_up(shift=shift, volunteer=person)

    def contacts(shift, viewer):
        return sorted((e.email or "") for e in selectors.roster(shift, viewer))

    assert contacts(ca_shift, california.user) == ["", consenting.email]
    assert contacts(ny_shift, new_york.user) == ["", ""]  # matched to California, not here
    assert contacts(ny_shift, organizer_of(slate)) == ["", consenting.email]
