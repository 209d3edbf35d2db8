"""A card that needs its supporter at release: email, reminders, completion, or failure."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from escrow import errors, notifications
from escrow import needs_action as escrow_needs_action
from escrow import release as escrow_release
from escrow.models import Payment
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from slate.states import SlateState
from tests.escrow.cards import DECLINED_AT_CHARGE, NEEDS_AUTH_ALWAYS, pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates, transactional

pytestmark = pytest.mark.django_db


@pytest.fixture
def needs_action(localstripe, django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate, card=NEEDS_AUTH_ALWAYS, amount_cents=4_200)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    mail.outbox[:] = transactional(mail.outbox)  # the lock's milestone news aside
    return pledge, pledge.payments.get(status=Payment.Status.REQUIRES_ACTION)


def test_supporter_is_emailed_once_then_reminded_every_48_hours(needs_action):
    pledge, payment = needs_action
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [pledge.supporter.email]
    assert f"/pledges/{pledge.pk}/complete-payment/" in mail.outbox[0].body
    assert "$42" in mail.outbox[0].body
    assert notifications.notify_needs_action(payment_id=payment.pk) is False
    later = timezone.now() + timedelta(hours=49)
    assert notifications.notify_needs_action(payment_id=payment.pk, now=later) is True
    assert mail.outbox[-1].subject.startswith("Reminder")
    assert len(mail.outbox) == 2


def test_supporter_completes_the_payment_and_it_is_captured(needs_action, localstripe):
    pledge, payment = needs_action
    found = escrow_needs_action.payment_needing_supporter(pledge=pledge, actor=pledge.supporter)
    assert found.pk == payment.pk and found.client_secret
    localstripe.authenticate_payment_intent(payment.payment_intent_id)
    escrow_needs_action.refresh_payment(payment_id=payment.pk)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert escrow_release.finish_release_if_done(slate_id=pledge.slate_id) is True
    pledge.slate.refresh_from_db()
    assert pledge.slate.state == SlateState.RELEASED
    assert ledger_problems() == []


def test_only_the_supporter_sees_the_payment_to_complete(needs_action):
    pledge, _ = needs_action
    with pytest.raises(errors.EscrowError) as excinfo:
        escrow_needs_action.payment_needing_supporter(pledge=pledge, actor=UserFactory())
    assert excinfo.value.code == "forbidden"


def test_a_failed_authentication_leaves_it_needing_action_until_the_grace_ends(
    needs_action, localstripe
):
    pledge, payment = needs_action
    localstripe.authenticate_payment_intent(payment.payment_intent_id, success=False)
    escrow_needs_action.refresh_payment(payment_id=payment.pk)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    assert (
        escrow_needs_action.fail_overdue_needs_action(now=timezone.now() + timedelta(days=8)) == 1
    )
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.FAILED
    pledge.slate.refresh_from_db()
    assert pledge.slate.state == SlateState.RELEASED
    assert ledger_problems() == []


def test_the_supporter_is_told_once_when_the_grace_period_ends_unpaid(
    needs_action, django_capture_on_commit_callbacks
):
    pledge, _ = needs_action
    mail.outbox.clear()
    after_grace = timezone.now() + timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        assert escrow_needs_action.fail_overdue_needs_action(now=after_grace) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            escrow_needs_action.fail_overdue_needs_action(now=after_grace) == 0
        )  # the beat runs again
    [email] = [m for m in mail.outbox if m.to == [pledge.supporter.email]]
    assert email.subject == f"Your pledge to {pledge.slate.name} could not be charged"
    assert "$42" in email.body and "7-day grace period" in email.body
    assert "Nothing was charged" in email.body and f"/pledges/{pledge.pk}/" in email.body
    assert notifications_sent_for(pledge) == ["failed"]


def notifications_sent_for(pledge) -> list[str]:
    from pledges.models import PledgeNotice

    return list(
        PledgeNotice.objects.filter(pledge=pledge, sent=True).values_list("kind", flat=True)
    )


def test_a_card_declined_at_release_is_replaced_and_charged(
    localstripe, django_capture_on_commit_callbacks, client
):
    from demo.cards import save_test_card

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate, card=DECLINED_AT_CHARGE, amount_cents=3_300)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    declined = pledge.payments.get(status=Payment.Status.REQUIRES_ACTION)
    client.force_login(pledge.supporter)
    page = client.get(f"/pledges/{pledge.pk}/complete-payment/")
    assert page.context["needs_new_card"] is True
    # The supporter saves another card on the card page; it is charged at once.
    save_test_card(pledge)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    declined.refresh_from_db()
    assert declined.status == Payment.Status.CANCELED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert escrow_release.finish_release_if_done(slate_id=slate.pk) is True
    assert ledger_problems() == []


def test_a_mail_server_error_leaves_the_notice_for_the_retry(needs_action, monkeypatch):
    pledge, payment = needs_action
    later = timezone.now() + timedelta(hours=49)

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("slate.mail.deliver", mail_server_down)
    with pytest.raises(ConnectionRefusedError):
        notifications.notify_needs_action(payment_id=payment.pk, now=later)
    payment.refresh_from_db()
    assert payment.supporter_notified_at < later - timedelta(hours=48)  # not marked as sent
    monkeypatch.undo()
    assert notifications.notify_needs_action(payment_id=payment.pk, now=later) is True
    assert [m.to for m in mail.outbox[1:]] == [[pledge.supporter.email]]


def test_the_reminder_run_goes_on_past_a_mail_server_error(needs_action, monkeypatch):
    from escrow import tasks

    pledge, payment = needs_action
    Payment.objects.filter(pk=payment.pk).update(
        supporter_notified_at=timezone.now() - timedelta(hours=49)
    )

    def mail_server_down(*args, **kwargs):
        raise ConnectionResetError("smtp went away")

    monkeypatch.setattr("slate.mail.deliver", mail_server_down)
    assert tasks.remind_needs_action() == 0  # logged, not raised
    monkeypatch.undo()
    assert tasks.remind_needs_action() == 1
    assert mail.outbox[-1].subject.startswith("Reminder")
    assert mail.outbox[-1].to == [pledge.supporter.email]
    assert tasks.remind_needs_action() == 0  # reminded just now
