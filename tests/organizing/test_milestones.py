"""Milestone news (organizing.milestones): "<candidate> signed" (at most one a day per slate),
"one signature to go", "locked: what happens to your pledge", "released: what your money and
hours did"; each reaches each supporter once, however often the tasks run, through the one
send path (slate.mail), which skips whoever turned milestones off."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizing import milestones, tasks
from pledges import intake as pledge_intake
from slate import mail
from slate.models import MilestoneNews, OutboundEmail
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def milestone_subjects(user) -> list[str]:
    return sorted(
        m.subject
        for m in outbox.outbox
        if m.to == [user.email] and m.extra_headers.get("List-Unsubscribe")
    )


def run_every_task_again(slate, now=None):
    for _ in range(2):
        tasks.milestones_after_signature(slate.pk)
        tasks.milestone_locked(slate.pk)
        tasks.milestone_released(slate.pk)
        milestones.sweep(now=now)


def test_each_milestone_reaches_each_supporter_once_when_the_tasks_run_twice(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=3, min_signatures=3)
    first, second, third = slate_candidates(slate)
    donor = pledge_with_card(slate, amount_cents=2_500).supporter
    volunteer, fan, tired = UserFactory(), UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pledge_intake.create_volunteer_pledge(
            supporter=volunteer, slate=slate, hours=6, activities=["canvassing"], zip_code="10001"
        )
        pledge_intake.sign_on(supporter=fan, slate=slate)
        pledge_intake.sign_on(supporter=tired, slate=slate)
    mail.set_wanted(tired.email, mail.Category.MILESTONES, slate.pk, False)
    supporters = (donor, volunteer, fan)

    with django_capture_on_commit_callbacks(execute=True):
        sign(first, slate)
    run_every_task_again(slate)
    for person in supporters:
        assert milestone_subjects(person) == [f"{slate.name}: {first.full_name} signed"]

    # The second signature the same day: "one to go" now, its "signed" news tomorrow.
    with django_capture_on_commit_callbacks(execute=True):
        sign(second, slate)
    run_every_task_again(slate)
    one_to_go = f"{slate.name} is one signature away from locking"
    assert milestone_subjects(donor) == sorted(
        [f"{slate.name}: {first.full_name} signed", one_to_go]
    )
    tomorrow = timezone.now() + timedelta(days=1)
    run_every_task_again(slate, now=tomorrow)
    for person in supporters:
        assert f"{slate.name}: {second.full_name} signed" in milestone_subjects(person)
    assert MilestoneNews.objects.filter(slate=slate, kind="signed").count() == 2

    # The third signature locks the slate; the release runs eagerly.
    with django_capture_on_commit_callbacks(execute=True):
        sign(third, slate)
    slate.refresh_from_db()
    assert slate.state == "released"
    run_every_task_again(slate, now=tomorrow)
    run_every_task_again(slate)

    expected = [
        f"{slate.name} is released: what your money and hours did",
        f"{slate.name} locked: here is what happens to your pledge",
        f"{slate.name}: {first.full_name} signed",
        f"{slate.name}: {second.full_name} signed",
        one_to_go,
    ]
    released_news = f"{slate.name} is released: what your money and hours did"
    for person in (volunteer, fan):
        assert milestone_subjects(person) == sorted(expected), person
    # The donor hears of the release in the charge receipt instead: one email, not two.
    assert milestone_subjects(donor) == sorted(set(expected) - {released_news})
    assert milestone_subjects(tired) == []  # turned milestones off for this slate
    assert OutboundEmail.objects.filter(to=tired.email, status="unsubscribed").count() == 5
    # Each supporter's milestone email went out once per key.
    keys = Counter(
        OutboundEmail.objects.filter(key__startswith="milestone:").values_list("key", flat=True)
    )
    assert set(keys.values()) == {1} and len(keys) == 4 * 5 - 1

    # What each was told is theirs.
    by_subject = {m.subject: m for m in outbox.outbox if m.to == [donor.email]}
    locked = by_subject[f"{slate.name} locked: here is what happens to your pledge"].body
    assert "- $25: charged now and paid out to the candidates who signed" in locked
    receipts = [m for m in outbox.outbox if m.to == [donor.email] and "was charged" in m.subject]
    assert len(receipts) == 1
    assert "Your pledge of $25 was charged" in receipts[0].body
    assert "- $25 charged and paid out to the signers' campaigns" in receipts[0].body
    assert "- 6 volunteer hours pledged to their campaigns" in receipts[0].body
    released = next(
        m.body for m in outbox.outbox if m.to == [volunteer.email] and m.subject == released_news
    )
    assert "- 6 volunteer hours for their campaigns." in released
    hours = next(
        m.body
        for m in outbox.outbox
        if m.to == [volunteer.email] and "locked: here is" in m.subject
    )
    assert "6 volunteer hours: you are matched with a signer's campaign" in hours
    assert "$" not in hours.split("What happens to your pledge:")[1].split("--")[0]


def test_signatures_after_the_days_news_wait_for_the_next_day(
    django_capture_on_commit_callbacks,
):
    slate = make_open_slate(candidates=4, min_signatures=4)
    fan = UserFactory()
    pledge_intake.sign_on(supporter=fan, slate=slate)
    first, second, third, _ = slate_candidates(slate)
    with django_capture_on_commit_callbacks(execute=True):
        sign(first, slate)
        sign(second, slate)
    with django_capture_on_commit_callbacks(execute=True):
        sign(third, slate)  # one to go now
    signed = [s for s in milestone_subjects(fan) if s.endswith(" signed")]
    assert len(signed) == 1  # at most one a day
    tomorrow = timezone.now() + timedelta(days=1)
    assert milestones.sweep(now=tomorrow) == 1
    assert milestones.sweep(now=tomorrow) == 0
    signed = [s for s in milestone_subjects(fan) if s.endswith(" signed")]
    assert len(signed) == 2
    named = " ".join(signed)
    for candidate in (first, second, third):
        assert named.count(candidate.full_name) == 1  # each named in one day's news


def test_a_withdrawn_one_to_go_is_not_sent_late(django_capture_on_commit_callbacks):
    """ "One signature to go" goes out only while it is so."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    fan = UserFactory()
    pledge_intake.sign_on(supporter=fan, slate=slate)
    first, second, _ = slate_candidates(slate)
    sign(first, slate)  # no on-commit tasks: as if they were lost
    assert milestones.announce_one_to_go(slate_id=slate.pk) == 0  # two to go
    sign(second, slate)
    assert milestones.announce_one_to_go(slate_id=slate.pk) == 1
    assert milestones.announce_one_to_go(slate_id=slate.pk) == 0


def test_a_fan_out_reads_the_supporters_pledges_once_per_batch_not_once_each(monkeypatch):
    """Seven supporters in batches of three: three reads of pledges, whatever the number of
    supporters in a batch; and each email still tells its reader about their own pledges."""
    slate = make_open_slate(candidates=2, min_signatures=2)
    fans = [UserFactory() for _ in range(7)]
    for fan in fans:
        pledge_intake.sign_on(supporter=fan, slate=slate)
    volunteer = fans[4]
    pledge_intake.create_volunteer_pledge(
        supporter=volunteer, slate=slate, hours=6, activities=["canvassing"], zip_code="10001"
    )
    news = MilestoneNews.objects.create(slate=slate, kind=MilestoneNews.Kind.LOCKED)
    monkeypatch.setattr(milestones, "FAN_OUT_BATCH", 3)
    outbox.outbox.clear()

    with CaptureQueriesContext(connection) as captured:
        assert milestones.fan_out(news) == 7

    pledge_reads = [
        q["sql"] for q in captured if re.match(r'SELECT .* FROM "pledges_pledge"', q["sql"])
    ]
    assert len(pledge_reads) == 3, pledge_reads
    bodies = {m.to[0]: m.body for m in outbox.outbox}
    assert "6 volunteer hours" in bodies[volunteer.email]
    assert all("volunteer hour" not in bodies[fan.email] for fan in fans if fan != volunteer)
    assert all("Your name counts" in body for body in bodies.values())
