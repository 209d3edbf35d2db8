"""The on-commit → broker → worker path, with a real Celery worker on the Redis broker."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate import tasks
from slate.celery import app
from slate.models import Slate, SlateTransition
from slate.states import SlateState
from tests.factories import LOCKED_OR_LATER, UserFactory, make_open_slate, sign, slate_candidates

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


@pytest.fixture
def celery_worker():
    """A worker thread consuming from Redis, with eager mode off for the test's duration."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        app.conf.task_always_eager = previous


# Generous: it returns as soon as the worker is done, and with the suite running in parallel on
# a busy machine the worker thread has had to wait well past 30 s for its first task.
def wait_for(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_final_signature_locks_the_slate_through_the_worker(celery_worker, slate_events):
    slate = make_open_slate(candidates=3, min_signatures=2)
    first, second, _ = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)

    def locked_and_dispatched():
        transition = SlateTransition.objects.filter(slate=slate, to_state="locked").first()
        return transition is not None and transition.dispatched_at is not None

    assert wait_for(locked_and_dispatched), "the worker did not lock the slate"
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    assert wait_for(lambda: ("slate_locked", slate.pk) in slate_events)
    assert slate_events.count(("slate_locked", slate.pk)) == 1


def test_deadline_job_expires_and_voids_through_the_worker(celery_worker):
    slate = make_open_slate()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=2_000
    )
    pledge_services.commit_money_pledge(pledge=pledge)
    Slate.objects.filter(pk=slate.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    tasks.expire_overdue_slates.delay()

    def voided():
        return Slate.objects.get(pk=slate.pk).state == SlateState.VOIDED

    assert wait_for(voided), "the worker did not expire and void the slate"
    pledge.refresh_from_db()
    assert pledge.state == "voided"


def test_an_email_task_retries_a_mail_server_error_through_the_worker(celery_worker, monkeypatch):
    """The payout notice's first two sends fail: Celery retries (with backoff) in the real
    worker until the mail goes out, once, and only then is the payout marked."""
    from django.core import mail

    from escrow import tasks as escrow_tasks
    from escrow.models import Payout
    from slate import mail as slate_mail

    slate = make_open_slate(candidates=1, min_signatures=1)
    (candidate,) = slate_candidates(slate)
    payout = Payout.objects.create(
        slate=slate, candidate=candidate, amount_cents=1_234, status=Payout.Status.RECORDED,
        due_at=timezone.now() + timedelta(days=10), paid_at=timezone.now(),
    )  # fmt: skip
    real_deliver, attempts = slate_mail.deliver, []

    def flaky_deliver(message):
        attempts.append(message.to)
        if len(attempts) < 3:
            raise ConnectionResetError("smtp went away")
        return real_deliver(message)

    monkeypatch.setattr(slate_mail, "deliver", flaky_deliver)
    escrow_tasks.notify_payout.delay(payout.pk)
    assert wait_for(lambda: Payout.objects.get(pk=payout.pk).candidate_notified_at is not None)
    assert len(attempts) == 3
    assert [m.to for m in mail.outbox] == [[candidate.user.email]]
