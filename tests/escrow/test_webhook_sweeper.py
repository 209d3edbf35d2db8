"""Stripe events are never lost: a crash while processing one keeps what was recorded, its
error is stored, the sweeper processes events whose task was lost or failed, and events that
keep failing reach staff. Against localstripe."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from escrow import cards, holds, stripe_gateway, sweeper, webhooks
from escrow import release as escrow_release
from escrow.models import LedgerAccount, Payment, Payout, WebhookEvent
from escrow.reconcile import reconcile_slate
from escrow.selectors import balance, ledger_problems
from pledges.states import PledgeState
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import GOOD, pledge_with_card
from tests.escrow.test_webhooks import event, signed
from tests.factories import make_open_slate, make_staff, sign, slate_candidates

pytestmark = pytest.mark.django_db

OTHER_CARD = "5555555555554444"


def store_event(localstripe, event_id: str, event_type: str, obj: dict) -> WebhookEvent:
    """Receive an event as the webhook view does; its processing task is lost (this test's
    transaction never commits, so the on-commit enqueue never runs)."""
    payload = event(event_id, event_type, obj)
    row, created = webhooks.receive(
        payload=payload, signature_header=signed(payload, localstripe.webhook_secret)
    )
    assert created
    return row


@pytest.fixture
def sweep_later(django_capture_on_commit_callbacks):
    """One sweeper run once every stored event is past the stale timeout, with the work it
    enqueues run (as a worker would, at once)."""

    def run(**later) -> dict:
        at = timezone.now() + timedelta(seconds=settings.SLATE_PAYMENT_STALE_SECONDS + 1, **later)
        with django_capture_on_commit_callbacks(execute=True):
            return sweeper.sweep(now=at)

    return run


def alerts(about: str) -> list[str]:
    """Subjects of the staff alerts (mail_admins) about ``about``."""
    return [m.subject for m in mail.outbox if about in m.subject]


def books_and_stripe_agree(slate) -> None:
    assert ledger_problems() == []
    assert reconcile_slate(slate) == []


@pytest.fixture
def captured_payment(localstripe, settings):
    """A $25 pledge of a releasing slate, captured at localstripe; staff have an address."""
    settings.ADMINS = [("Staff", "staff@example.org")]
    slate = make_open_slate(candidates=1, min_signatures=1)
    sign(*slate_candidates(slate), slate)
    pledge = pledge_with_card(slate, amount_cents=2_500)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    escrow_release.release_pledge(pledge_id=pledge.pk)
    return Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)


def test_a_lost_dispute_event_is_booked_by_the_sweeper(localstripe, captured_payment, sweep_later):
    payment = captured_payment
    mail.outbox.clear()
    row = store_event(
        localstripe, "evt_lost_dispute", "charge.dispute.created",
        {"id": "dp_lost", "object": "dispute", "amount": 2_500, "reason": "fraudulent",
         "status": "needs_response", "payment_intent": payment.payment_intent_id},
    )  # fmt: skip
    assert balance(LedgerAccount.DISPUTES) == 0

    counts = sweep_later()

    payment.refresh_from_db()
    assert (payment.disputed, payment.disputed_cents) == (True, 2_500)
    assert balance(LedgerAccount.DISPUTES) == 2_500
    row.refresh_from_db()
    assert row.processed_at is not None and row.attempts == 1
    assert counts["webhooks"] == 1
    assert alerts("Dispute") == [f"[Django] Dispute opened on pledge #{payment.pledge_id}"]
    sweep_later()  # a second run finds nothing left to do
    assert len(alerts("Dispute")) == 1
    books_and_stripe_agree(payment.pledge.slate)


def test_money_refunded_in_stripe_is_never_paid_out(localstripe, captured_payment, sweep_later):
    """A refund made in the Stripe dashboard whose ``charge.refunded`` task was lost: the
    candidate's payout waits for it to be booked and then pays only what is still owed."""
    from escrow import tasks

    payment = captured_payment
    [charge] = localstripe.charges_of(payment.payment_intent_id)
    status, refund = localstripe.post(
        "/v1/refunds", payment_intent=payment.payment_intent_id, amount=1_000
    )
    assert status == 200, refund
    store_event(
        localstripe, "evt_lost_refund", "charge.refunded",
        {"id": charge["id"], "object": "charge", "payment_intent": payment.payment_intent_id},
    )  # fmt: skip
    slate = payment.pledge.slate

    tasks.pay_candidates(slate.pk)  # the release ends before the sweeper has run
    assert not Payout.objects.filter(slate=slate).exists()

    sweep_later()

    payment.refresh_from_db()
    assert payment.refunded_cents == 1_000
    [payout] = Payout.objects.filter(slate=slate)
    assert payout.amount_cents == 1_500
    books_and_stripe_agree(slate)


@pytest.fixture
def held_pledge_with_new_card(localstripe):
    """A held pledge of an open slate whose supporter just confirmed another card in the
    browser; Stripe has sent ``setup_intent.succeeded`` and it is stored."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledge = pledge_with_card(slate, amount_cents=4_000, card=GOOD)
    old_hold = holds.authorize_pledge(pledge_id=pledge.pk)
    setup = cards.start_card_setup(pledge=pledge, actor=pledge.supporter)
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=OTHER_CARD),
        idempotency_key="browser",
    )
    row = store_event(
        localstripe, "evt_new_card", "setup_intent.succeeded", {"id": setup.setup_intent_id}
    )
    return pledge, old_hold, setup, row


def test_a_crash_after_stripe_acted_keeps_the_recorded_intent_and_the_sweeper_finishes(
    localstripe, held_pledge_with_new_card, monkeypatch, sweep_later
):
    pledge, old_hold, setup, row = held_pledge_with_new_card
    real_cancel = stripe_gateway.cancel

    def cancel_then_die(**kwargs):
        real_cancel(**kwargs)  # Stripe let the old hold go ...
        raise RuntimeError("worker killed")  # ... and the worker died before recording it

    monkeypatch.setattr(stripe_gateway, "cancel", cancel_then_die)
    with pytest.raises(RuntimeError):
        webhooks.process_event(event_row_id=row.pk)

    # What was recorded before Stripe acted survives, and so does the error.
    old_hold.refresh_from_db()
    assert old_hold.status == Payment.Status.CANCELING
    setup.refresh_from_db()
    assert setup.status == "succeeded"
    row.refresh_from_db()
    assert (row.processed_at, row.attempts) == (None, 1)
    assert "worker killed" in row.error
    assert localstripe.get(f"/v1/payment_intents/{old_hold.payment_intent_id}")["status"] == (
        "canceled"
    )

    monkeypatch.setattr(stripe_gateway, "cancel", real_cancel)
    sweep_later()

    row.refresh_from_db()
    assert row.processed_at is not None and row.error == ""
    old_hold.refresh_from_db()
    assert old_hold.status == Payment.Status.CANCELED
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.AUTHORIZED
    new_hold = Payment.objects.get(pledge=pledge, status=Payment.Status.REQUIRES_CAPTURE)
    assert new_hold.card_setup_id == setup.pk
    assert Payment.objects.filter(pledge=pledge).count() == 2  # no hold placed twice
    books_and_stripe_agree(pledge.slate)


def test_events_that_keep_failing_are_shown_and_reported_to_staff_once(
    localstripe, held_pledge_with_new_card, monkeypatch, settings, client, sweep_later
):
    settings.ADMINS = [("Staff", "staff@example.org")]
    pledge, _, _, row = held_pledge_with_new_card

    def stripe_down(setup_intent_id):
        raise stripe_gateway.GatewayError("api_key_expired", "Expired API Key", retryable=False)

    monkeypatch.setattr(stripe_gateway, "retrieve_setup_intent", stripe_down)
    mail.outbox.clear()
    for run in range(1, settings.SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS + 2):
        sweep_later(minutes=10 * run)
    row.refresh_from_db()
    assert row.processed_at is None
    assert row.attempts == settings.SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS + 1
    [alert] = [m for m in mail.outbox if "keep failing" in m.subject]
    assert alert.to == ["staff@example.org"]
    assert "evt_new_card" in alert.body and "api_key_expired" in alert.body

    staff = make_staff()
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    failing = client.get("/admin/escrow/webhookevent/?processing=failing")
    assert "evt_new_card" in failing.content.decode()
    processed = client.get("/admin/escrow/webhookevent/?processing=processed")
    assert "evt_new_card" not in processed.content.decode()

    monkeypatch.undo()
    sweep_later(hours=1)
    row.refresh_from_db()
    assert row.processed_at is not None
    assert (
        "evt_new_card"
        not in client.get("/admin/escrow/webhookevent/?processing=failing").content.decode()
    )
    books_and_stripe_agree(pledge.slate)


def test_the_stored_payload_is_read_only_before_processing(
    localstripe, captured_payment, sweep_later
):
    """The books never need an event's payload again once it is processed (it may be cut
    down to what the books need): the sweeper leaves processed events alone."""
    row = store_event(
        localstripe, "evt_done", "charge.dispute.created",
        {"id": "dp_9", "object": "dispute", "amount": 2_500, "status": "needs_response",
         "payment_intent": captured_payment.payment_intent_id},
    )  # fmt: skip
    webhooks.process_event(event_row_id=row.pk)
    WebhookEvent.objects.filter(pk=row.pk).update(payload={"id": "evt_done"})
    assert sweep_later()["webhooks"] == 0
    assert webhooks.slate_ids_awaiting_money_events() == set()
    assert json.dumps(WebhookEvent.objects.get(pk=row.pk).payload) == '{"id": "evt_done"}'


def test_events_that_keep_failing_do_not_crowd_out_events_never_tried(localstripe):
    failing = store_event(localstripe, "evt_old_failing", "customer.created", {"id": "cus_1"})
    fresh = store_event(localstripe, "evt_never_tried", "customer.created", {"id": "cus_2"})
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookEvent.objects.filter(pk=failing.pk).update(
        received_at=long_ago, attempts=40, last_attempt_at=long_ago
    )
    WebhookEvent.objects.filter(pk=fresh.pk).update(received_at=long_ago + timedelta(minutes=1))

    assert webhooks.unprocessed_event_ids(untouched_since=timezone.now(), limit=1) == [fresh.pk]
