"""Against localstripe: a real release's captures are contributions (limits and receipts
read them from the ledger), and deleting a donor afterwards leaves the books sound."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from compliance.privacy import delete_personal_data, forget_cards_left_attached
from compliance.selectors import capped_allocation
from escrow import cards as escrow_cards
from escrow import stripe_gateway
from escrow.models import CardSetup
from escrow.selectors import ledger_problems
from pledges import services as pledge_services
from pledges.states import PledgeState
from slate.states import SlateState
from tests.compliance.helpers import DETAILS, money_pledge, slates_sharing_candidates
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, sign

pytestmark = pytest.mark.django_db


def test_a_released_capture_counts_against_the_limit_and_is_receipted(
    localstripe, django_capture_on_commit_callbacks
):
    (first, second), people = slates_sharing_candidates(slates=2, candidates=2, min_signatures=2)
    donor = UserFactory()
    pledge = pledge_with_card(first, amount_cents=600_000, supporter=donor, donor_details=DETAILS)
    with django_capture_on_commit_callbacks(execute=True):
        for person in people:
            sign(person, first)
    first.refresh_from_db()
    pledge.refresh_from_db()
    assert first.state == SlateState.RELEASED and pledge.state == PledgeState.CAPTURED
    assert ledger_problems() == []
    # $3,000 to each candidate: $500 of room left each for this election, on any slate.
    later = money_pledge(second, donor, 200_000)
    result = capped_allocation(later, {p.pk: 100_000 for p in people}, at=timezone.now())
    assert result.capturable == {p.pk: 50_000 for p in people}
    assert result.uncaptured_cents == 100_000
    receipts = [m for m in mail.outbox if "receipt" in m.subject]
    assert len(receipts) == 1 and "Total: $6,000" in receipts[0].body
    pledge_services.cancel_pledge(pledge=later, actor=donor)
    delete_personal_data(user=donor, actor=donor)
    assert ledger_problems() == []
    call_command("check_ledger")


def attached_card(localstripe, pledge) -> str:
    """The pledge's saved card, attached to the supporter's Stripe customer as real Stripe
    does when a SetupIntent succeeds (localstripe leaves it unattached)."""
    setup = CardSetup.objects.select_related("customer").get(pledge=pledge)
    status, body = localstripe.post(
        f"/v1/payment_methods/{setup.payment_method_id}/attach",
        customer=setup.customer.customer_id,
    )
    assert status == 200, body
    return setup.payment_method_id


def test_deleting_your_data_detaches_your_saved_cards(
    localstripe, django_capture_on_commit_callbacks
):
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    donor = UserFactory()
    pledges = [pledge_with_card(slate, supporter=donor) for _ in range(2)]
    methods = [attached_card(localstripe, pledge) for pledge in pledges]
    other = pledge_with_card(slate)  # another supporter's card is not touched
    other_method = attached_card(localstripe, other)
    for pledge in pledges:
        pledge_services.cancel_pledge(pledge=pledge, actor=donor)
    with django_capture_on_commit_callbacks(execute=True):
        delete_personal_data(user=donor, actor=donor)
    for method in methods:
        assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is None
    assert localstripe.get(f"/v1/payment_methods/{other_method}")["customer"] is not None
    assert not CardSetup.objects.filter(pledge__in=pledges, forgotten_at__isnull=True).exists()
    assert CardSetup.objects.get(pledge=other).forgotten_at is None
    assert escrow_cards.forget_saved_cards(user_id=donor.pk) == 0  # a second run: no-op


def test_a_card_an_unsettled_pledge_may_charge_is_kept(localstripe):
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    method = attached_card(localstripe, pledge)
    assert escrow_cards.forget_saved_cards(user_id=pledge.supporter_id) == 0
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is not None
    assert CardSetup.objects.get(pledge=pledge).forgotten_at is None


def test_the_beat_job_detaches_cards_a_lost_task_left_attached(localstripe):
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    method = attached_card(localstripe, pledge)
    donor = pledge.supporter
    pledge_services.cancel_pledge(pledge=pledge, actor=donor)
    delete_personal_data(user=donor, actor=donor)  # its on-commit task never runs here
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is not None
    assert forget_cards_left_attached() == 0  # too recent: the task may be on its way
    assert forget_cards_left_attached(now=timezone.now() + timedelta(hours=1)) == 1
    assert localstripe.get(f"/v1/payment_methods/{method}")["customer"] is None
    assert forget_cards_left_attached(now=timezone.now() + timedelta(hours=1)) == 0


def test_a_card_stripe_already_dropped_counts_as_forgotten(localstripe, monkeypatch):
    """Real Stripe refuses to detach a card that is no longer attached (400) or gone (404)."""
    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    pledge = pledge_with_card(slate)
    pledge_services.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    refusal = stripe_gateway.GatewayError(
        "invalid_request_error",
        "The payment method you provided is not attached to a customer so detachment is "
        "impossible.",
        retryable=False,
        http_status=400,
    )

    def refuse(**_):
        raise refusal

    monkeypatch.setattr(stripe_gateway, "detach_payment_method", refuse)
    assert escrow_cards.forget_saved_cards(user_id=pledge.supporter_id) == 1
    assert CardSetup.objects.get(pledge=pledge).forgotten_at is not None

    # Any other refusal leaves the card to forget on the next run.
    other = pledge_with_card(slate)
    pledge_services.cancel_pledge(pledge=other, actor=other.supporter)
    refusal = stripe_gateway.GatewayError("api_error", "try later", retryable=True, http_status=500)
    with pytest.raises(stripe_gateway.GatewayError):
        escrow_cards.forget_saved_cards(user_id=other.supporter_id)
    assert CardSetup.objects.get(pledge=other).forgotten_at is None


def test_deleting_your_data_leaves_none_in_stored_stripe_events_or_partner_webhook_logs(
    localstripe,
):
    from api.models import WebhookDelivery
    from escrow import webhooks
    from escrow.models import StripeCustomer, WebhookEvent
    from slate import partners as slate_partners
    from tests.factories import make_staff, with_totp

    (slate,), _ = slates_sharing_candidates(slates=1, candidates=2, min_signatures=2)
    admin = with_totp(UserFactory())
    union = slate_partners.create_partner_organization(name="Union", kind="union", admin=admin)
    slate_partners.verify_partner_organization(organization=union, actor=make_staff())
    slate_partners.endorse_slate(organization=union, slate=slate, actor=admin)
    union.webhook_endpoints.create(url="https://hooks.example.org/", secret="whsec_x")
    donor = UserFactory(first_name="Ada", last_name="Lovelace")
    pledge = pledge_with_card(slate, supporter=donor, donor_details=DETAILS)
    customer = StripeCustomer.objects.get(user=donor).customer_id
    person = {"name": "Ada Lovelace", "email": donor.email, "phone": "+1 555 0100",
              "address": {"line1": "12 Analytical Way", "postal_code": "97201"}}  # fmt: skip

    def stored_unprocessed(event_id, obj):  # its handler failed: kept whole for a retry
        return WebhookEvent.objects.create(
            event_id=event_id, type="customer.updated",
            payload={"id": event_id, "type": "customer.updated", "data": {"object": obj}},
        )  # fmt: skip

    about_donor = [
        stored_unprocessed("evt_1", {"id": customer, "object": "customer", **person}),
        stored_unprocessed(
            "evt_2", {"id": "pm_1", "customer": customer, "billing_details": person}
        ),
    ]
    someone_else = stored_unprocessed("evt_3", {"id": "cus_other", "name": "Someone Else"})
    pledge_services.cancel_pledge(pledge=pledge, actor=donor)
    delete_personal_data(user=donor, actor=donor)

    stored = json.dumps(
        [row.payload for row in WebhookEvent.objects.filter(pk__in=[r.pk for r in about_donor])]
        + list(WebhookDelivery.objects.values_list("payload", "last_error"))
    )
    assert WebhookDelivery.objects.exists()  # the partner did hear of the pledge
    for personal in ("Ada", "Lovelace", donor.email, "Analytical", "97201", "555"):
        assert personal not in stored
    someone_else.refresh_from_db()
    assert someone_else.payload["data"]["object"]["name"] == "Someone Else"
    # What is left is enough to process them.
    assert all(webhooks.process_event(event_row_id=row.pk) for row in about_donor)
