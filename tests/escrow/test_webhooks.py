"""/stripe/webhook/: signature verified, each event stored once, processed once."""

import hashlib
import hmac
import json
import time

import pytest

from escrow import stripe_gateway
from escrow.models import CardSetup, WebhookEvent
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.states import PledgeState
from tests.escrow.cards import GOOD
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db
URL = "/stripe/webhook/"


def signed(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = timestamp or int(time.time())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def event(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    ).encode()


@pytest.fixture
def card_confirmed_in_browser(localstripe):
    """A pledge whose SetupIntent succeeded at Stripe, but nobody has told us yet."""
    from escrow import cards

    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=make_open_slate(), amount_cents=4_000
    )
    setup = cards.start_card_setup(pledge=pledge, actor=supporter)
    payment_method = stripe_gateway.create_test_payment_method(card_number=GOOD)
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id, payment_method_id=payment_method,
        idempotency_key="browser",
    )  # fmt: skip
    return pledge, setup


def test_setup_intent_succeeded_commits_the_pledge_once_even_when_replayed(
    client, localstripe, card_confirmed_in_browser, django_capture_on_commit_callbacks
):
    pledge, setup = card_confirmed_in_browser
    payload = event("evt_1", "setup_intent.succeeded", {"id": setup.setup_intent_id})
    for attempt in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                URL, payload, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signed(payload, localstripe.webhook_secret),
            )  # fmt: skip
        assert response.status_code == 200
        assert response.json()["duplicate"] is (attempt > 0)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.COMMITTED
    assert pledge.events.filter(to_state=PledgeState.COMMITTED).count() == 1
    assert WebhookEvent.objects.get(event_id="evt_1").processed_at is not None
    assert CardSetup.objects.get(pk=setup.pk).status == "succeeded"


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", "SIGN_WITH_WRONG_SECRET", "SIGN_TOO_OLD"],
)
def test_bad_signatures_are_refused_and_change_nothing(
    client, localstripe, card_confirmed_in_browser, signature
):
    pledge, setup = card_confirmed_in_browser
    payload = event("evt_bad", "setup_intent.succeeded", {"id": setup.setup_intent_id})
    if signature == "SIGN_WITH_WRONG_SECRET":
        signature = signed(payload, "whsec_wrong")
    elif signature == "SIGN_TOO_OLD":
        signature = signed(payload, localstripe.webhook_secret, timestamp=int(time.time()) - 3600)
    response = client.post(
        URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PENDING_CARD


def test_a_tampered_payload_is_refused(client, localstripe, card_confirmed_in_browser):
    _, setup = card_confirmed_in_browser
    payload = event("evt_t", "setup_intent.succeeded", {"id": setup.setup_intent_id})
    signature = signed(payload, localstripe.webhook_secret)
    tampered = payload.replace(b"evt_t", b"evt_x")
    response = client.post(
        URL, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_webhook_accepts_only_post(client):
    assert client.get(URL).status_code == 405


def test_unknown_event_types_are_stored_and_ignored(
    client, localstripe, django_capture_on_commit_callbacks
):
    payload = event("evt_other", "customer.created", {"id": "cus_1"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, payload, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signed(payload, localstripe.webhook_secret),
        )  # fmt: skip
    assert response.status_code == 200
    assert WebhookEvent.objects.get(event_id="evt_other").processed_at is not None


@pytest.fixture
def captured_payment(localstripe, settings):
    """A $25 pledge captured at localstripe; staff have an address for alerts."""
    from escrow import release
    from escrow.models import Payment
    from slate.models import Slate
    from slate.states import SlateState
    from tests.escrow.cards import pledge_with_card
    from tests.factories import sign, slate_candidates

    settings.ADMINS = [("Staff", "staff@example.org")]
    slate = make_open_slate(candidates=1, min_signatures=1)
    sign(*slate_candidates(slate), slate)
    pledge = pledge_with_card(slate, amount_cents=2_500)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    release.release_pledge(pledge_id=pledge.pk)
    return Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)


def post_event(client, localstripe, capture, event_id, event_type, obj, times=1):
    payload = event(event_id, event_type, obj)
    for _ in range(times):
        with capture(execute=True):
            response = client.post(
                URL, payload, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signed(payload, localstripe.webhook_secret),
            )  # fmt: skip
        assert response.status_code == 200


def dispute_of(payment, status, **extra) -> dict:
    return {
        "id": "dp_1", "object": "dispute", "amount": 2_500, "reason": "fraudulent",
        "status": status, "payment_intent": payment.payment_intent_id, **extra,
    }  # fmt: skip


def test_a_dispute_is_booked_staff_are_told_once_and_a_win_reverses_it(
    client, localstripe, captured_payment, django_capture_on_commit_callbacks
):
    from django.core import mail

    from escrow.models import LedgerAccount
    from escrow.selectors import balance, candidate_payable_cents, ledger_problems
    from tests.factories import slate_candidates

    payment = captured_payment
    clearing = balance(LedgerAccount.PLATFORM_CLEARING)
    mail.outbox.clear()
    opened = dispute_of(payment, "needs_response", evidence_details={"due_by": 1_800_000_000})
    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_dispute", "charge.dispute.created", opened, times=3,
    )  # fmt: skip
    payment.refresh_from_db()
    assert (payment.disputed, payment.dispute_status, payment.disputed_cents) == (
        True, "needs_response", 2_500,
    )  # fmt: skip
    assert balance(LedgerAccount.DISPUTES) == 2_500
    assert balance(LedgerAccount.PLATFORM_CLEARING) == clearing - 2_500
    [alert] = mail.outbox
    assert alert.to == ["staff@example.org"]
    assert f"pledge #{payment.pledge_id}" in alert.subject
    assert "Amount: $25. Reason: fraudulent." in alert.body
    assert "2027-01-15" in alert.body  # the evidence deadline
    assert ledger_problems() == []

    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_dispute_won", "charge.dispute.closed", dispute_of(payment, "won"), times=2,
    )  # fmt: skip
    payment.refresh_from_db()
    assert (payment.dispute_status, payment.disputed_cents) == ("won", 0)
    assert balance(LedgerAccount.DISPUTES) == 0
    assert balance(LedgerAccount.PLATFORM_CLEARING) == clearing
    assert len(mail.outbox) == 1
    [candidate] = slate_candidates(payment.pledge.slate)
    assert candidate_payable_cents(candidate.pk) == 2_500  # candidates keep what they are owed
    assert ledger_problems() == []


def test_a_lost_dispute_reported_before_it_opened_is_booked_once(
    client, localstripe, captured_payment, django_capture_on_commit_callbacks
):
    from escrow.models import LedgerAccount, LedgerTransaction, Payment
    from escrow.selectors import balance, ledger_problems

    payment = captured_payment
    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_lost", "charge.dispute.closed", dispute_of(payment, "lost"),
    )  # fmt: skip
    post_event(  # the late "created"
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_created", "charge.dispute.created", dispute_of(payment, "needs_response"),
    )  # fmt: skip
    payment.refresh_from_db()
    assert (payment.dispute_status, payment.disputed_cents) == ("lost", 2_500)
    assert LedgerTransaction.objects.filter(kind="dispute").count() == 1
    assert balance(LedgerAccount.DISPUTES) == 2_500  # the platform's loss
    assert ledger_problems() == []
    Payment.objects.filter(pk=payment.pk).update(disputed_cents=0)  # books and Stripe disagree
    assert ledger_problems() == [f"payment {payment.pk}: disputed 0 but 2500 booked"]


def test_an_inquiry_flags_the_payment_and_books_nothing(
    client, localstripe, captured_payment, django_capture_on_commit_callbacks
):
    from escrow.models import LedgerTransaction

    payment = captured_payment
    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_inquiry", "charge.dispute.created",
        dispute_of(payment, "warning_needs_response"),
    )  # fmt: skip
    payment.refresh_from_db()
    assert payment.disputed and payment.disputed_cents == 0
    assert not LedgerTransaction.objects.filter(kind="dispute").exists()


def test_a_dispute_on_a_payment_we_do_not_know_changes_nothing(
    client, localstripe, django_capture_on_commit_callbacks
):
    from django.core import mail

    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_stranger", "charge.dispute.created", {"id": "dp_2", "payment_intent": "pi_unknown"},
    )  # fmt: skip
    assert WebhookEvent.objects.get(event_id="evt_stranger").processed_at is not None
    assert mail.outbox == []


def charge_of(name: str, email: str) -> dict:
    """A charge snapshot as Stripe sends it: the payer's name, email, address and card."""
    return {
        "id": "ch_1", "object": "charge", "amount": 2_500, "currency": "usd",
        "status": "succeeded", "payment_intent": {"id": "pi_1", "object": "payment_intent",
                                                  "receipt_email": email},
        "customer": "cus_1",
        "receipt_email": email, "metadata": {"pledge_id": "7", "note": name},
        "billing_details": {
            "name": name, "email": email, "phone": "+1 555 0100",
            "address": {"line1": "12 Analytical Way", "city": "London", "postal_code": "N1"},
        },
        "payment_method_details": {"card": {"last4": "4242", "brand": "visa"}},
    }  # fmt: skip


def test_a_processed_event_keeps_what_the_books_need_and_nobody_s_name(
    client, localstripe, django_capture_on_commit_callbacks
):
    post_event(
        client, localstripe, django_capture_on_commit_callbacks,
        "evt_charge", "charge.succeeded", charge_of("Ada Lovelace", "ada@example.org"),
    )  # fmt: skip
    row = WebhookEvent.objects.get(event_id="evt_charge")
    assert row.processed_at is not None
    stored = json.dumps(row.payload)
    for personal in ("Ada", "ada@example.org", "Analytical", "555", "4242", "cus_1"):
        assert personal not in stored
    assert (row.payload["id"], row.payload["type"]) == ("evt_charge", "charge.succeeded")
    assert row.payload["data"]["object"] == {
        "id": "ch_1", "object": "charge", "amount": 2_500, "currency": "usd",
        "status": "succeeded", "payment_intent": "pi_1", "metadata": {"pledge_id": "7"},
    }  # fmt: skip


def test_an_event_keeps_its_whole_payload_until_it_is_processed(monkeypatch):
    from escrow import webhooks

    payload = json.loads(event("evt_charge", "charge.succeeded", charge_of("Ada", "a@x.org")))
    row = WebhookEvent.objects.create(
        event_id="evt_charge", type="charge.succeeded", payload=payload
    )

    def fails(*args):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(webhooks, "_handle", fails)
        with pytest.raises(RuntimeError):
            webhooks.process_event(event_row_id=row.pk)
    row.refresh_from_db()
    assert row.processed_at is None
    assert row.payload == payload  # whole, for the next attempt and for staff to read
    assert webhooks.process_event(event_row_id=row.pk)
    row.refresh_from_db()
    assert "billing_details" not in row.payload["data"]["object"]
