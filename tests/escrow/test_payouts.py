"""Payouts: what the ledger owes each candidate, transferred or recorded once, on time."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from escrow import payouts, release, stripe_gateway, stripe_payouts, tasks
from escrow.models import CandidatePayoutAccount, Payout
from escrow.reconcile import reconcile_slate
from escrow.selectors import candidate_payable_cents, ledger_problems
from slate.models import Slate
from slate.states import SlateState
from slate.templatetags.money import dollars
from tests.escrow.cards import pledge_with_card
from tests.factories import User, make_open_slate, make_staff, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(localstripe):
    """$30.01 captured for two signed candidates; one has a Stripe Connect account."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    first, second, _ = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)
    CandidatePayoutAccount.objects.create(candidate=first, stripe_account_id="acct_first")
    pledge = pledge_with_card(slate, amount_cents=3_001)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    stripe_payouts.payout_gateway().clear()
    return slate, first, second


def test_each_candidate_is_paid_what_is_owed_once(owed):
    slate, first, second = owed
    created = payouts.schedule_payouts(slate_id=slate.pk)
    assert sorted(p.amount_cents for p in created) == [1_500, 1_501]
    assert payouts.schedule_payouts(slate_id=slate.pk) == []  # nothing new is owed
    for payout in created:
        payouts.send_payout(payout_id=payout.pk)
        payouts.send_payout(payout_id=payout.pk)  # a retry sends nothing more
    by_candidate = {p.candidate_id: p for p in Payout.objects.filter(slate=slate)}
    assert by_candidate[first.pk].status == Payout.Status.PAID
    assert by_candidate[first.pk].transfer_id.startswith("tr_rec_")
    assert by_candidate[second.pk].status == Payout.Status.RECORDED  # for the treasurer
    transfers = stripe_payouts.payout_gateway().transfers
    assert [(t.destination_account_id, t.amount_cents) for t in transfers] == [
        ("acct_first", by_candidate[first.pk].amount_cents)
    ]
    assert candidate_payable_cents(first.pk, slate.pk) == 0
    assert candidate_payable_cents(second.pk, slate.pk) == 0
    assert ledger_problems() == []


def test_payouts_are_due_ten_days_after_capture(owed):
    slate, _, _ = owed
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        assert timedelta(days=9, hours=23) < payout.due_at - timezone.now() <= timedelta(days=10)


def test_staff_hear_about_payouts_near_the_limit_once(owed, settings):
    settings.ADMINS = [("Treasurer", "treasurer@example.org")]
    slate, _, _ = owed
    payouts.schedule_payouts(slate_id=slate.pk)
    assert tasks.alert_payouts_near_due() == 0  # ten days away
    Payout.objects.update(due_at=timezone.now() + timedelta(days=1))
    assert tasks.alert_payouts_near_due() == 2
    assert tasks.alert_payouts_near_due() == 0  # flagged already
    assert Payout.objects.filter(needs_attention=True).count() == 2
    assert "10-day" in mail.outbox[-1].subject


def test_candidates_are_told_once_when_their_payout_is_sent(
    owed, django_capture_on_commit_callbacks
):
    slate, first, second = owed
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        created = payouts.schedule_payouts(slate_id=slate.pk)
        for payout in created:
            payouts.send_payout(payout_id=payout.pk)
    by_email = {m.to[0]: m for m in mail.outbox}
    assert set(by_email) == {first.user.email, second.user.email}
    transferred, recorded = by_email[first.user.email], by_email[second.user.email]
    assert "transferred to your connected Stripe account" in transferred.body
    paid = Payout.objects.get(slate=slate, candidate=first)
    assert f"Your share, {dollars(paid.amount_cents)}, has been sent" in transferred.body
    assert "recorded for the slate's treasurer" in recorded.body
    assert Payout.objects.filter(candidate_notified_at__isnull=True).count() == 0
    # A retried notice task, or a second sweep, sends nothing more.
    for payout in created:
        assert tasks.notify_payout(payout.pk) is False
    assert len(mail.outbox) == 2


def test_an_unsent_payout_tells_nobody(owed):
    slate, _, _ = owed
    (payout, *_) = payouts.schedule_payouts(slate_id=slate.pk)
    mail.outbox.clear()
    assert tasks.notify_payout(payout.pk) is False
    payout.refresh_from_db()
    assert payout.candidate_notified_at is None
    assert mail.outbox == []


def test_the_sweeper_tells_candidates_a_lost_notice_left_out(owed):
    """The notice task's message was lost after the payout committed: a sweep sends it."""
    from escrow import sweeper

    slate, first, second = owed
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)  # no on-commit here: the notice is "lost"
    mail.outbox.clear()
    assert sweeper.sweep().get("notices", 0) == 0  # just sent: the notice may be on its way
    counts = sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    assert counts["notices"] == 2
    told = [m.to[0] for m in mail.outbox if "your share" in m.subject]
    assert sorted(told) == sorted([first.user.email, second.user.email])
    assert sweeper.sweep(now=timezone.now() + timedelta(hours=1)).get("notices", 0) == 0
    assert len([m for m in mail.outbox if "your share" in m.subject]) == 2


def test_a_candidate_sees_their_own_payouts_only(owed, client):
    slate, first, second = owed
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)
    client.force_login(first.user)
    page = client.get(reverse("escrow:candidate-payouts"))
    assert [p.candidate_id for p in page.context["payouts"]] == [first.pk]
    assert "Transferred to your Stripe account" in page.content.decode()
    client.force_login(second.user)
    page = client.get(reverse("escrow:candidate-payouts"))
    assert [p.candidate_id for p in page.context["payouts"]] == [second.pk]
    assert "With the treasurer" in page.content.decode()


def sent_payouts(slate) -> dict[str, Payout]:
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)
    return {p.status: p for p in Payout.objects.filter(slate=slate)}


def treasurer() -> User:
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="manage_payouts"))
    return User.objects.get(pk=staff.pk)  # a fresh object: permissions are cached


def test_a_transfer_is_its_own_disbursement_a_recorded_payout_waits(owed, settings):
    settings.ADMINS = [("Treasurer", "treasurer@example.org")]
    slate, _, _ = owed
    sent = sent_payouts(slate)
    transferred, recorded = sent[Payout.Status.PAID], sent[Payout.Status.RECORDED]
    assert transferred.disbursed_at == transferred.paid_at
    assert transferred.disbursement_reference == transferred.transfer_id
    assert recorded.disbursed_at is None
    # Both are past their due date, but only the recorded one still has money to send.
    Payout.objects.update(due_at=timezone.now() + timedelta(days=1))
    assert tasks.alert_payouts_near_due() == 1
    assert list(Payout.objects.filter(needs_attention=True)) == [recorded]
    assert "waiting for the treasurer" in mail.outbox[-1].body


def test_the_treasurer_records_a_disbursement_in_the_admin(owed, client):
    slate, _, second = owed
    recorded = sent_payouts(slate)[Payout.Status.RECORDED]
    Payout.objects.filter(pk=recorded.pk).update(needs_attention=True)
    staff = treasurer()
    client.force_login(staff)
    listing = client.get(reverse("admin:escrow_payout_changelist")).content.decode()
    url = reverse("admin:escrow_payout_disburse", args=[recorded.pk])
    assert url in listing
    assert client.get(url).status_code == 200

    blank = client.post(url, {"reference": "   "})
    assert blank.status_code == 200 and blank.context["form"].errors["reference"]
    recorded.refresh_from_db()
    assert recorded.disbursed_at is None  # nothing written

    done = client.post(url, {"reference": "CHK-1042"})
    assert done.status_code == 302
    recorded.refresh_from_db()
    assert (recorded.disbursement_reference, recorded.disbursed_by) == ("CHK-1042", staff)
    assert recorded.disbursed_at is not None and not recorded.needs_attention
    assert url not in client.get(reverse("admin:escrow_payout_changelist")).content.decode()

    again = client.post(url, {"reference": "CHK-9999"})
    assert "was disbursed on" in again.content.decode()
    recorded.refresh_from_db()
    assert recorded.disbursement_reference == "CHK-1042"

    client.force_login(second.user)
    page = client.get(reverse("escrow:candidate-payouts")).content.decode()
    assert "Sent by the treasurer (CHK-1042)" in page


def test_only_a_treasurer_records_disbursements_of_recorded_payouts(owed, client):
    slate, first, _ = owed
    sent = sent_payouts(slate)
    recorded, transferred = sent[Payout.Status.RECORDED], sent[Payout.Status.PAID]
    url = reverse("admin:escrow_payout_disburse", args=[recorded.pk])
    client.force_login(make_staff())  # staff, but not allowed to record disbursements
    assert client.post(url, {"reference": "CHK-1"}).status_code == 403
    with pytest.raises(payouts.PayoutError) as refused:
        payouts.record_disbursement(payout_id=recorded.pk, reference="CHK-1", actor=first.user)
    assert refused.value.code == "forbidden"
    with pytest.raises(payouts.PayoutError) as refused:
        payouts.record_disbursement(payout_id=transferred.pk, reference="CHK-1", actor=treasurer())
    assert refused.value.code == "not_recorded"
    with pytest.raises(payouts.PayoutError) as refused:
        payouts.record_disbursement(payout_id=recorded.pk, reference="x" * 101, actor=treasurer())
    assert refused.value.field == "reference"
    assert not Payout.objects.filter(disbursed_by__isnull=False).exists()


def test_a_mail_server_error_leaves_the_payout_notice_for_the_retry(owed, monkeypatch):
    from escrow import notifications

    slate, first, _ = owed
    sent = sent_payouts(slate)
    transferred = sent[Payout.Status.PAID]
    mail.outbox.clear()

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("slate.mail.deliver", mail_server_down)
    with pytest.raises(ConnectionRefusedError):
        notifications.notify_payout(payout_id=transferred.pk)
    transferred.refresh_from_db()
    assert transferred.candidate_notified_at is None  # not marked: the retry still sends
    monkeypatch.undo()
    assert tasks.notify_payout(transferred.pk) is True
    assert [m.to for m in mail.outbox] == [[first.user.email]]


@pytest.fixture
def connect_refuses(owed, settings):
    """Payouts through the real Stripe Connect gateway, against localstripe: it has no
    Connect, so every transfer comes back 404 — a refusal for good, as for a closed account."""
    settings.SLATE_PAYOUT_GATEWAY = "stripe_connect"
    settings.ADMINS = [("Treasurer", "treasurer@example.org")]
    return owed


def test_a_refused_transfer_fails_the_payout_keeps_the_money_owed_and_tells_staff(
    connect_refuses, django_capture_on_commit_callbacks
):
    from escrow import sweeper

    slate, first, _ = connect_refuses
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for payout in payouts.schedule_payouts(slate_id=slate.pk):
            payouts.send_payout(payout_id=payout.pk)
    failed = Payout.objects.get(candidate=first)
    assert failed.status == Payout.Status.FAILED and failed.needs_attention
    assert "404" in failed.last_error or "resource_missing" in failed.last_error
    assert candidate_payable_cents(first.pk, slate.pk) == failed.amount_cents  # still owed
    [alert] = [m for m in mail.outbox if "failed" in m.subject]
    assert alert.to == ["treasurer@example.org"] and "acct_first" in alert.body
    # Its money stays reserved: no second payout, and the sweeper does not resend it.
    assert payouts.schedule_payouts(slate_id=slate.pk) == []
    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    failed.refresh_from_db()
    assert failed.status == Payout.Status.FAILED and failed.attempt == 1
    assert Payout.objects.filter(slate=slate).count() == 2
    assert ledger_problems() == []


def test_staff_send_a_failed_payout_again_once_the_account_is_fixed(connect_refuses, client):
    slate, first, _ = connect_refuses
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)
    failed = Payout.objects.get(candidate=first)
    # The candidate has no working connected account: the treasurer pays by check instead.
    CandidatePayoutAccount.objects.filter(candidate=first).delete()
    client.force_login(make_staff())
    refused = client.post(
        reverse("admin:escrow_payout_changelist"),
        {"action": "send_failed_again", "_selected_action": [failed.pk]},
    )
    assert refused.status_code in (302, 403)
    failed.refresh_from_db()
    assert failed.status == Payout.Status.FAILED  # staff without the permission: unchanged
    client.force_login(treasurer())
    response = client.post(
        reverse("admin:escrow_payout_changelist"),
        {"action": "send_failed_again", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "Sent again: #" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempt, failed.destination_account_id) == (
        Payout.Status.RECORDED, 2, "",
    )  # fmt: skip
    assert candidate_payable_cents(first.pk, slate.pk) == 0
    assert ledger_problems() == []


def test_a_new_attempt_has_a_new_idempotency_key(owed):
    slate, _, _ = owed
    (payout, *_) = payouts.schedule_payouts(slate_id=slate.pk)
    assert payouts.transfer_key(payout) == f"payout-{payout.pk}-transfer"
    payout.attempt = 2
    assert payouts.transfer_key(payout) == f"payout-{payout.pk}-transfer-2"


def test_a_payout_the_sweeper_cannot_resume_does_not_stop_the_sweep(owed, monkeypatch):
    """Stripe keeps answering 'try later' for one payout: the sweep logs it, goes on to the
    rest of its work, and the payout stays 'sending' for the next sweep."""
    from escrow import sweeper

    slate, first, _ = owed
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        Payout.objects.filter(pk=payout.pk).update(status=Payout.Status.SENDING)

    class Unavailable:
        def transfer(self, **_):
            raise stripe_gateway.GatewayError("api_error", "try later", retryable=True)

    monkeypatch.setattr(stripe_payouts, "payout_gateway", lambda: Unavailable())
    counts = sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    assert counts["payouts"] == 2
    # The Connect payout is still sending; the treasurer's one needed no Stripe call.
    statuses = dict(Payout.objects.filter(slate=slate).values_list("candidate_id", "status"))
    assert statuses[first.pk] == Payout.Status.SENDING
    assert Payout.Status.RECORDED in statuses.values()


def test_with_the_real_gateway_a_candidate_without_connect_is_paid_by_the_treasurer(
    connect_refuses, localstripe
):
    """Production's gateway (stripe_connect): no Connect account means a recorded payout for
    the treasurer, and no transfer is asked of Stripe for it."""
    slate, _, second = connect_refuses
    for payout in payouts.schedule_payouts(slate_id=slate.pk):
        payouts.send_payout(payout_id=payout.pk)
    recorded = Payout.objects.get(candidate=second)
    assert (recorded.status, recorded.transfer_id) == (Payout.Status.RECORDED, "")
    assert candidate_payable_cents(second.pk, slate.pk) == 0
    assert stripe_payouts.payout_gateway().__class__ is stripe_payouts.StripeConnectPayouts
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []
