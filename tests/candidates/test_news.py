"""The news reaches the candidate: live figures in the invitation email, a weekly digest to
unsigned candidates (pausable), a "one signature away" email; each sent once."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from candidates import asks, invitations, news, services, signatures, tasks
from candidates.models import Candidate, CandidateNotice
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import UserFactory, make_open_slate, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db


def pledge(slate, state, cents=5_000):
    made = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=cents,
        supporter_state=state,
    )  # fmt: skip
    pledge_services.commit_money_pledge(pledge=made)


def test_the_invitation_email_carries_the_live_figures(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=3, min_signatures=3)
    signer = slate_candidates(slate)[0]
    sign(signer, slate)
    organizer = organizer_of(slate)
    invitation = invitations.invite_new_candidate(
        slate=slate, actor=organizer, full_name="Ida Wells", office="senate", state="IL"
    )
    pledge(slate, "IL", 7_500)
    pledge(slate, "CA", 2_500)
    for _ in range(2):
        asks.record_ask(slate=slate, candidate=invitation.candidate, supporter=UserFactory())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitations.send_invitation_link(
            invitation=invitation, email="ida@example.org", actor=organizer
        )
    [message] = mail.outbox
    assert "$100 pledged" in message.body
    assert "From Illinois: $75, 0 hours, 1 pledges" in message.body
    assert "2 supporters have asked you to sign" in message.body
    assert f"1 of the 3 signatures needed are in: {signer.full_name}" in message.body


@pytest.fixture
def slate():
    return make_open_slate(candidates=4, min_signatures=3)


def test_the_weekly_digest_goes_once_to_each_unsigned_candidate_who_has_not_paused_it(slate):
    signer, paused, first, second = slate_candidates(slate)
    sign(signer, slate)
    services.set_digest_paused(candidate=paused, actor=paused.user, paused=True)
    asks.record_ask(slate=slate, candidate=first, supporter=UserFactory(), message="Sign")
    pledge(slate, first.state)
    mail.outbox.clear()

    assert tasks.send_weekly_digests() == 2
    assert tasks.send_weekly_digests() == 0  # the task runs twice: nobody hears twice
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.user.email, second.user.email])
    body = next(m.body for m in mail.outbox if m.to == [first.user.email])
    assert "$50 pledged" in body
    assert "1 supporters have asked you to sign (1 this week)" in body
    assert f"1 of the 3 signatures needed are in: {signer.full_name}" in body
    assert f"newly signed: {signer.full_name}" in body
    assert CandidateNotice.objects.filter(kind="digest", sent=True).count() == 2


def test_one_signature_away_reaches_every_unsigned_candidate_once(slate):
    first, second, third, fourth = slate_candidates(slate)
    sign(first, slate)
    assert tasks.send_one_away_notices() == 0  # two more are needed
    sign(second, slate)
    mail.outbox.clear()
    assert tasks.send_one_away_notices() == 2
    assert tasks.send_one_away_notices() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([third.user.email, fourth.user.email])
    assert all("is one signature away" in m.subject for m in mail.outbox)
    assert "2 of the 3 signatures needed are in" in mail.outbox[0].body
    # Withdrawing and signing again does not send it again.
    signatures.withdraw_signature(candidate=second, slate=slate, signer=second.user)
    sign(second, slate)
    assert tasks.send_one_away_notices() == 0
    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_by_the_next_run_and_then_sent_once(slate, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("slate.mail.deliver", broken)
    with pytest.raises(OSError):
        tasks.send_weekly_digests()
    assert not CandidateNotice.objects.filter(settled_at__isnull=False).exists()
    monkeypatch.undo()
    assert tasks.send_weekly_digests() == 4
    assert tasks.send_weekly_digests() == 0
    assert len(mail.outbox) == 4


def test_news_no_longer_true_is_not_sent(slate):
    candidate = slate_candidates(slate)[0]
    news.queue_digests()
    sign(candidate, slate)
    notice = CandidateNotice.objects.get(candidate=candidate)
    assert news.send_notice(notice_id=notice.pk) is False
    notice.refresh_from_db()
    assert notice.settled_at is not None and not notice.sent


def test_a_candidate_pauses_their_own_digest_only(slate):
    candidate, other = slate_candidates(slate)[:2]
    with pytest.raises(services.CandidateError):
        services.set_digest_paused(candidate=candidate, actor=other.user, paused=True)
    client = Client()
    client.force_login(candidate.user)
    assert client.post(reverse("candidates:digest"), {"paused": "1"}).status_code == 302
    assert Candidate.objects.get(pk=candidate.pk).digest_paused
    assert b"Resume the weekly digest" in client.get(reverse("candidates:home")).content
    client.post(reverse("candidates:digest"), {"paused": "0"})
    assert not Candidate.objects.get(pk=candidate.pk).digest_paused
