"""A supporter gets one email per event about their pledge: confirmed, cancelled, voided at
the lock (this module), charged or voided with the slate, needs action (escrow's), however
many times the sending task runs."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from escrow import voiding
from pledges import intake, notifications, services, tasks
from pledges.declarations import ATTESTED
from pledges.models import PledgeNotice
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates, transactional

pytestmark = pytest.mark.django_db


def to(user):
    return [m for m in transactional(mail.outbox) if m.to == [user.email]]


@pytest.fixture
def slate():
    return make_open_slate(candidates=2, min_signatures=1)


def test_saving_the_card_confirms_the_pledge_once(
    slate, localstripe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pledge = pledge_with_card(slate, amount_cents=2_500)
    [email] = to(pledge.supporter)
    assert email.subject == f"Your pledge to {slate.name} is confirmed"
    assert "$25" in email.body and f"/pledges/{pledge.pk}/" in email.body
    assert "Nothing is charged now" in email.body
    # the task delivered twice, or run again by hand, sends nothing more
    assert tasks.notify_supporter(pledge.pk, "confirmed") is False
    assert notifications.notify_supporter(pledge_id=pledge.pk, kind="confirmed") is False
    assert len(to(pledge.supporter)) == 1


def test_a_pledge_without_a_card_yet_is_not_confirmed(slate, django_capture_on_commit_callbacks):
    supporter = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        intake.create_money_pledge(
            attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=900
        )
    assert to(supporter) == []


def test_a_hold_dropped_and_renewed_does_not_confirm_again(slate, localstripe):
    pledge = pledge_with_card(slate)
    pledge.state = PledgeState.COMMITTED
    assert notifications.notice_for_change(pledge, PledgeState.AUTHORIZED) is None
    assert notifications.notice_for_change(pledge, PledgeState.PENDING_CARD) == "confirmed"


def test_cancelling_is_confirmed_once_and_a_late_confirmation_is_not_sent(
    slate, localstripe, django_capture_on_commit_callbacks
):
    pledge = pledge_with_card(slate)  # its confirmation task has not run yet
    with django_capture_on_commit_callbacks(execute=True):
        voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    [email] = to(pledge.supporter)
    assert email.subject == f"Your pledge to {slate.name} is cancelled"
    assert "Nothing was charged" in email.body
    assert tasks.notify_supporter(pledge.pk, "confirmed") is False  # no longer true
    assert tasks.notify_supporter(pledge.pk, "cancelled") is False  # told already
    assert len(to(pledge.supporter)) == 1
    dropped = PledgeNotice.objects.get(pledge=pledge, kind="confirmed")
    assert dropped.settled_at is not None and not dropped.sent


def test_volunteer_hours_are_confirmed_and_cancelled(slate, django_capture_on_commit_callbacks):
    supporter = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pledge = intake.create_volunteer_pledge(
            supporter=supporter, slate=slate, hours=6, activities=["canvassing"],
            zip_code="94110", availability="weekends", supporter_state="CA",
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_pledge(pledge=pledge, actor=supporter)
    assert [m.subject for m in to(supporter)] == [
        f"Your pledge to {slate.name} is confirmed",
        f"Your pledge to {slate.name} is cancelled",
    ]
    assert "6 volunteer hours" in to(supporter)[0].body


def test_sign_ons_send_nothing(slate, django_capture_on_commit_callbacks):
    supporter = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        intake.sign_on(supporter=supporter, slate=slate, supporter_state="CA")
    assert to(supporter) == []


def test_lock_charges_one_and_voids_the_other_each_told_once(
    slate, localstripe, django_capture_on_commit_callbacks
):
    charged = pledge_with_card(slate, amount_cents=3_000)
    # wants both candidates; only one will have signed
    unmet = pledge_with_card(slate, amount_cents=4_000, condition_min_signatures=2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    slate.refresh_from_db()
    assert slate.state == "released"
    # Besides the news, the charge has its receipt (compliance), a separate document.
    [charged_email, receipt] = sorted(to(charged.supporter), key=lambda m: "receipt" in m.subject)
    assert "your pledge was charged" in charged_email.subject and "$30" in charged_email.body
    assert "receipt" in receipt.subject and "Total: $30" in receipt.body
    [voided_email] = to(unmet.supporter)
    assert voided_email.subject == f"Your pledge to {slate.name} was not used: nothing was charged"
    assert "conditions you set" in voided_email.body and "$40" in voided_email.body


def test_expiry_sends_one_slate_wide_email_not_one_per_pledge(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate()
    supporter = UserFactory()
    pledge_with_card(slate, supporter=supporter, amount_cents=1_000)
    pledge_with_card(slate, supporter=supporter, amount_cents=2_000)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    [email] = to(supporter)
    assert "nothing was charged" in email.subject and "$30" in email.body
    assert not PledgeNotice.objects.filter(kind="voided").exists()


def test_a_failed_send_stays_in_the_outbox_so_the_retry_sends(slate, localstripe):
    pledge = pledge_with_card(slate)  # its task has not run: the notice waits in the outbox
    with (
        mock.patch("slate.mail.deliver", side_effect=smtplib.SMTPServerDisconnected),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        notifications.notify_supporter(pledge_id=pledge.pk, kind="confirmed")
    notice = PledgeNotice.objects.get(pledge=pledge, kind="confirmed")
    assert notice.settled_at is None and not notice.sent
    assert to(pledge.supporter) == []
    assert notifications.notify_supporter(pledge_id=pledge.pk, kind="confirmed") is True
    assert len(to(pledge.supporter)) == 1
    notice.refresh_from_db()
    assert notice.settled_at is not None and notice.sent


def test_the_sweeper_sends_what_a_lost_task_did_not(slate, localstripe):
    pledge = pledge_with_card(slate)  # its on-commit task never runs here, as if lost
    assert tasks.sweep_pledge_notices() == 0  # too recent: its own task may still come
    later = timezone.now() + notifications.SWEEP_AFTER + timedelta(seconds=1)
    with mock.patch.object(notifications.timezone, "now", return_value=later):
        assert tasks.sweep_pledge_notices() == 1
        assert tasks.sweep_pledge_notices() == 0
    [email] = to(pledge.supporter)
    assert email.subject == f"Your pledge to {slate.name} is confirmed"


def test_quiet_sends_nothing(slate, django_capture_on_commit_callbacks):
    supporter = UserFactory()
    with notifications.quiet(), django_capture_on_commit_callbacks(execute=True):
        intake.create_volunteer_pledge(
            supporter=supporter, slate=slate, hours=2, activities=["canvassing"],
            zip_code="94110", availability="", supporter_state="CA",
        )  # fmt: skip
    assert to(supporter) == []
    assert not PledgeNotice.objects.exists()
