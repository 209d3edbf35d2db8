"""A record after the lock: organizers record how the signers voted on a plank; the slate page
shows it, a signer's page shows where they kept or broke the bloc, and each supporter of the
slate gets one email per record, however often its task runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates import votes
from candidates.models import SignerVote, VoteRecord
from candidates.services import CandidateError
from pledges import intake as pledge_intake
from pledges import notifications
from pledges import services as pledge_services
from pledges import tasks as pledge_tasks
from pledges.models import PledgeNotice
from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
)
from volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db

SOURCE = "https://clerk.house.gov/Votes/2027101"
SUPPORTERS = []  # the fixture's: with two pledges, with one, cancelled


@pytest.fixture
def locked(django_capture_on_commit_callbacks):
    """A slate of three whose first two signed (which locked it); the third never signed."""
    slate = make_open_slate(candidates=3, min_signatures=2)
    first, second, unsigned = slate_candidates(slate)
    # Supporters (pledges wait for the lock, so they come first): one with a sign-on and
    # volunteer hours (two pledges, one person), one with a sign-on, one who cancelled.
    both, once, gone = UserFactory(), UserFactory(), UserFactory()
    pledge_intake.sign_on(supporter=both, slate=slate)
    volunteer_services.pledge_volunteer_hours(
        supporter=both, slate=slate, hours=4, activities=["canvassing"], zip_code="94110"
    )
    pledge_intake.sign_on(supporter=once, slate=slate)
    cancelled = pledge_intake.sign_on(supporter=gone, slate=slate)
    pledge_services.cancel_pledge(pledge=cancelled, actor=gone)
    SUPPORTERS[:] = [both, once, gone]
    with django_capture_on_commit_callbacks(execute=True):
        sign(first, slate)
        sign(second, slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    return slate, first, second, unsigned


def record(slate, first, second, *, actor=None, **overrides):
    arguments = {
        "slate": slate,
        "actor": actor or organizer_of(slate),
        "plank_position": 1,
        "description": "H.R. 676, Medicare for All Act, final passage",
        "voted_on": timezone.localdate(),
        "bloc_vote": "yes",
        "source_url": SOURCE,
        "votes": {first.pk: "yes", second.pk: "no"},
        **overrides,
    }
    return votes.record_vote(**arguments)


def test_a_record_holds_each_signers_vote_and_who_kept_the_bloc(locked):
    slate, first, second, unsigned = locked
    made = record(slate, first, second)
    assert made.plank_title == "Universal health care"
    outcomes = {v.candidate: v.outcome for v in made.votes.all()}
    assert outcomes == {first: "kept", second: "broke"}
    assert unsigned not in outcomes  # not a signer: not held to the bloc

    page = Client().get(slate.get_absolute_url()).content.decode()
    assert "H.R. 676, Medicare for All Act, final passage" in page
    assert f"{second.full_name}</a>: No — <strong>broke the bloc</strong>" in page
    assert SOURCE in page

    kept = Client().get(first.get_absolute_url()).content.decode()
    assert "Kept the bloc in 1 of 1 recorded vote." in kept
    broke = Client().get(second.get_absolute_url()).content.decode()
    assert "Kept the bloc in 0 of 1 recorded vote; broke it in 1." in broke


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"plank_position": 9}, "plank", "Choose one of the slate's planks."),
        ({"plank_position": "x"}, "plank", "Choose one of the slate's planks."),
        ({"description": "  "}, "description", "Say what was voted on"),
        ({"description": "x" * 301}, "description", "at most 300"),
        ({"description": "a\x00b"}, "description", "NUL"),
        ({"voted_on": "2027-01-01"}, "voted_on", "Enter the date of the vote."),
        ({"voted_on": timezone.localdate() + timedelta(days=1)}, "voted_on", "in the future"),
        ({"voted_on": timezone.localdate() - timedelta(days=1)}, "voted_on", "locked on"),
        ({"bloc_vote": "maybe"}, "bloc_vote", "Choose yes or no."),
        ({"source_url": "javascript:alert(1)"}, "source_url", "https://"),
        ({"source_url": ""}, "source_url", "Link to where the vote is published."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_writes_nothing(locked, overrides, field, message):
    slate, first, second, _ = locked
    with pytest.raises(CandidateError) as refused:
        record(slate, first, second, **overrides)
    assert refused.value.field == field
    assert message in refused.value.message
    assert not VoteRecord.objects.exists() and not SignerVote.objects.exists()


def test_every_signer_needs_a_vote_and_only_signers_have_one(locked):
    slate, first, second, unsigned = locked
    with pytest.raises(CandidateError, match=f"Choose how {second.full_name} voted"):
        record(slate, first, second, votes={first.pk: "yes"})
    with pytest.raises(CandidateError, match="signers only"):
        record(slate, first, second, votes={first.pk: "yes", second.pk: "no", unsigned.pk: "no"})
    with pytest.raises(CandidateError, match=f"Choose how {second.full_name} voted"):
        record(slate, first, second, votes={first.pk: "yes", second.pk: "perhaps"})
    assert not VoteRecord.objects.exists()


def test_only_organizers_and_only_after_the_lock(locked):
    slate, first, second, _ = locked
    for outsider in (
        UserFactory(),
        first.user,
        organizer_of(make_open_slate(candidates=1, min_signatures=1)),
    ):
        with pytest.raises(CandidateError, match="Only this slate's organizers"):
            record(slate, first, second, actor=outsider)
    open_slate = make_open_slate(candidates=2, min_signatures=2)
    a, b = slate_candidates(open_slate)
    sign(a, open_slate)
    with pytest.raises(CandidateError, match="only after the slate has locked"):
        record(open_slate, a, b, votes={a.pk: "yes"})
    assert not VoteRecord.objects.exists()


def test_the_organizer_page_records_a_vote_and_refuses_bad_input(locked):
    slate, first, second, _ = locked
    client = Client()
    client.force_login(organizer_of(slate))
    url = reverse("organize:votes", args=[slate.slug])
    form = {
        "plank": "2",
        "description": "Clean Air amendment",
        "voted_on": timezone.localdate().isoformat(),
        "bloc_vote": "yes",
        "source_url": "https://senate.example.gov/vote/12",
        f"vote_{first.pk}": "yes",
        f"vote_{second.pk}": "absent",
    }
    bad = client.post(url, {**form, f"vote_{second.pk}": ""})
    assert bad.status_code == 400
    assert f"Choose how {second.full_name} voted." in bad.content.decode()
    assert not VoteRecord.objects.exists()
    assert client.post(url, form).status_code == 302
    made = VoteRecord.objects.get()
    assert (made.plank_title, made.votes.get(candidate=second).outcome) == ("Climate", "missed")
    # Another slate's organizer is refused; an open slate's own organizer is told why not.
    other = Client()
    other.force_login(organizer_of(make_open_slate(candidates=1, min_signatures=1)))
    assert other.post(url, form).status_code == 403
    assert VoteRecord.objects.count() == 1


def test_the_page_escapes_what_organizers_typed(locked):
    slate, first, second, _ = locked
    record(slate, first, second, description="<script>alert(1)</script> vote")
    page = Client().get(slate.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; vote" in page


def test_each_supporter_gets_one_email_per_record_even_when_the_task_runs_twice(
    locked, django_capture_on_commit_callbacks
):
    slate, first, second, _ = locked
    both, once, _gone = SUPPORTERS
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        made = record(slate, first, second)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([both.email, once.email])
    message = next(m for m in mail.outbox if m.to == [once.email])
    assert message.subject == f"How {slate.name}'s signers voted"
    assert "H.R. 676, Medicare for All Act, final passage" in message.body
    assert f"{second.full_name}: No (broke the bloc)" in message.body
    assert SOURCE in message.body

    mail.outbox.clear()
    assert pledge_tasks.announce_vote_record(made.pk) == 0  # the task again: nobody new
    assert pledge_tasks.sweep_pledge_notices() == 0
    for notice in PledgeNotice.objects.filter(kind="vote_record"):
        assert not notifications.notify_supporter(
            pledge_id=notice.pledge_id, kind=notice.kind, key=notice.key
        )
    assert mail.outbox == []
    assert PledgeNotice.objects.filter(kind="vote_record", sent=True).count() == 2

    # A second record is news again, once each.
    with django_capture_on_commit_callbacks(execute=True):
        record(slate, first, second, description="Second vote")
    assert len(mail.outbox) == 2


def test_a_lost_send_is_sent_once_by_the_sweeper(locked):
    slate, first, second, _ = locked
    made = record(slate, first, second)  # no on-commit callbacks: the task never ran
    written = notifications.announce_vote_record(record_id=made.pk)
    assert len(written) == 2
    assert notifications.announce_vote_record(record_id=made.pk) == []
    mail.outbox.clear()
    later = timezone.now() + timedelta(minutes=10)

    def unsettled():
        return sorted(
            n for n in notifications.unsettled_notices(now=later) if n[1] == "vote_record"
        )

    assert unsettled() == sorted(written)
    pledge_id, kind, key = written[0]
    assert pledge_tasks.notify_supporter(pledge_id, kind, key) is True
    assert pledge_tasks.notify_supporter(pledge_id, kind, key) is False
    assert len(mail.outbox) == 1
    assert unsettled() == [written[1]]
