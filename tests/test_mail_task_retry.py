"""Tasks that send email retry when the mail server or provider fails (an OSError), so a
mail outage delays an email instead of losing it; a retried fan-out tells nobody twice."""

import importlib

import pytest
from django.core import mail as outbox
from django.utils import timezone

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate import deadlines as slate_deadlines
from slate import mail
from slate.models import DeadlineExtension
from tests.factories import UserFactory, make_open_slate, organizer_of

APPS = ("candidates", "pledges", "organizing", "volunteers", "compliance", "escrow")
SENDS_MAIL = {
    "candidates.tasks.email_invitation_link",
    "candidates.tasks.send_weekly_digests",
    "candidates.tasks.send_one_away_notices",
    "candidates.tasks.send_ask_link",
    "pledges.tasks.notify_supporter",
    "pledges.tasks.announce_vote_record",
    "pledges.tasks.send_sign_on_link",
    "organizing.tasks.tell_supporters_deadline_extended",
    "organizing.tasks.send_organizer_update_batch",
    "organizing.tasks.milestones_after_signature",
    "organizing.tasks.milestone_locked",
    "organizing.tasks.milestone_released",
    "organizing.tasks.send_organizer_invitation",
    "organizing.tasks.tell_organizers_refused",
    "volunteers.tasks.notify_volunteer_match",
    "volunteers.tasks.notify_promoted",
    "volunteers.tasks.send_staff_invitation",
    "compliance.tasks.send_receipt",
    "escrow.tasks.alert_failing_webhook_events",
    "escrow.tasks.alert_payout_failed",
    "escrow.tasks.alert_refund_failed",
    "escrow.tasks.notify_unwanted_payment_refunded",
    "escrow.tasks.notify_needs_action",
    "escrow.tasks.notify_payout",
    "escrow.tasks.alert_dispute",
    "escrow.tasks.tell_supporters",
}
# Beat sweepers (the next beat is their retry) and tasks that send nothing themselves.
SENDS_NO_MAIL_OR_IS_A_SWEEPER = {
    "pledges.tasks.void_expired_slate",
    "pledges.tasks.sweep_expired_slates",
    "pledges.tasks.sweep_pledge_notices",
    "organizing.tasks.prepare_organizer_update",
    "organizing.tasks.sweep_organizer_updates",
    "organizing.tasks.sweep_milestones",
    "volunteers.tasks.match_volunteers",
    "volunteers.tasks.send_shift_reminders",
    "volunteers.tasks.sweep_unmatched_slates",
    "compliance.tasks.send_missing_receipts",
    "compliance.tasks.request_missing_donor_details",
    "compliance.tasks.forget_cards_left_attached",
    "escrow.tasks.release_slate",
    "escrow.tasks.walk_release",
    "escrow.tasks.release_chunk",
    "escrow.tasks.void_expired_slate_holds",
    "escrow.tasks.process_webhook_event",
    "escrow.tasks.sweep_stranded_money",
    "escrow.tasks.fail_overdue_needs_action",
    "escrow.tasks.pay_candidates",
    "escrow.tasks.alert_payouts_near_due",
    "escrow.tasks.place_and_renew_holds",
    "escrow.tasks.book_stripe_fees",
    "escrow.tasks.reconcile_with_stripe",
    "escrow.tasks.send_refund",
    "escrow.tasks.forget_saved_cards",
    "escrow.tasks.remind_needs_action",
}


def test_every_task_that_sends_mail_retries_on_a_mail_failure():
    from slate.celery import app

    for name in APPS:
        importlib.import_module(f"{name}.tasks")
    names = {name for name in app.tasks if name.split(".")[0] in APPS}
    unclassified = names - SENDS_MAIL - SENDS_NO_MAIL_OR_IS_A_SWEEPER
    assert not unclassified, f"say whether these send mail: {sorted(unclassified)}"
    for name in SENDS_MAIL:
        assert OSError in getattr(app.tasks[name], "autoretry_for", ()), name


@pytest.mark.django_db
def test_a_mail_outage_delays_the_deadline_news_and_tells_each_supporter_once(monkeypatch):
    from organizing import tasks

    slate = make_open_slate(candidates=2, min_signatures=2)
    donors = [UserFactory() for _ in range(3)]
    for donor in donors:
        pledge_services.commit_money_pledge(
            pledge=pledge_intake.create_money_pledge(
                attestations=ATTESTED, supporter=donor, slate=slate, amount_cents=700
            )
        )
    extension = slate_deadlines.extend_deadline(
        slate=slate,
        new_deadline=slate.deadline + timezone.timedelta(days=3),
        actor=organizer_of(slate),
        reason="The primary moved",
    )
    real_deliver = mail.deliver
    failures = []

    def fails_once_on_the_second(message):
        if message.to == [donors[1].email] and not failures:
            failures.append(message.to)
            raise ConnectionResetError("the mail server hung up")
        real_deliver(message)

    monkeypatch.setattr(mail, "deliver", fails_once_on_the_second)
    # As a worker runs it: the retry runs at once here (no countdown when applied in process).
    result = tasks.tell_supporters_deadline_extended.apply(args=[extension.pk], throw=False)
    assert result.successful(), result.traceback
    assert failures == [[donors[1].email]]
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(d.email for d in donors)
    extension.refresh_from_db()
    assert extension.told_at is not None
    assert DeadlineExtension.objects.filter(told_at__isnull=True).count() == 0
