"""/stripe/webhook/: signature verified, each event stored once, processed once."""

import hashlib
import hmac
import json
import time

import pytest

from compliance.declarations import ATTESTED
from escrow import stripe_gateway
from escrow.models import CardSetup, WebhookEvent
from pledges import services as pledge_services
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
    from escrow import services as escrow_services

    supporter = UserFactory()
    pledge = pledge_services.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=make_open_slate(), amount_cents=4_000
    )
    setup = escrow_services.start_card_setup(pledge=pledge, actor=supporter)
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


def test_a_dispute_flags_the_payment_and_tells_staff_once(
    client, localstripe, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    from escrow import services as escrow_services
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
    escrow_services.release_pledge(pledge_id=pledge.pk)
    payment = Payment.objects.get(pledge=pledge, status=Payment.Status.SUCCEEDED)
    mail.outbox.clear()
    dispute = {
        "id": "dp_1", "object": "dispute", "amount": 2_500, "reason": "fraudulent",
        "payment_intent": payment.payment_intent_id,
        "evidence_details": {"due_by": 1_800_000_000},
    }  # fmt: skip
    payload = event("evt_dispute", "charge.dispute.created", dispute)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                URL, payload, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signed(payload, localstripe.webhook_secret),
            )  # fmt: skip
        assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.disputed
    [alert] = mail.outbox
    assert alert.to == ["staff@example.org"]
    assert f"pledge #{pledge.pk}" in alert.subject
    assert "Amount: $25. Reason: fraudulent." in alert.body
    assert "2027-01-15" in alert.body  # the evidence deadline


def test_a_dispute_on_a_payment_we_do_not_know_changes_nothing(
    client, localstripe, django_capture_on_commit_callbacks
):
    from django.core import mail

    payload = event(
        "evt_stranger", "charge.dispute.created", {"id": "dp_2", "payment_intent": "pi_unknown"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, payload, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signed(payload, localstripe.webhook_secret),
        )  # fmt: skip
    assert response.status_code == 200
    assert WebhookEvent.objects.get(event_id="evt_stranger").processed_at is not None
    assert mail.outbox == []
