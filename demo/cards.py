"""Test cards saved through the real card-intake path: for the demo data and the tests."""

from django.conf import settings

from escrow import stripe_gateway
from escrow.cards import confirm_card_setup, start_card_setup
from pledges.models import Pledge

DEMO_CARD = "4242424242424242"


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def save_test_card(pledge: Pledge, card_number: str = DEMO_CARD) -> Pledge:
    """What the pledge page does with Stripe.js, done server-side with a test card number
    (refused by the gateway with a live key)."""
    setup = start_card_setup(pledge=pledge, actor=pledge.supporter)
    payment_method = stripe_gateway.create_test_payment_method(card_number=card_number)
    result = stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=payment_method,
        idempotency_key=f"test-card-{setup.setup_intent_id}-confirm",
    )
    if result.status == "requires_action":
        # The bank asks for 3-D Secure; the supporter passes it in Stripe.js, which confirms
        # the SetupIntent again (localstripe: a confirm without a payment method succeeds).
        stripe_gateway.confirm_setup_intent(
            setup_intent_id=setup.setup_intent_id,
            payment_method_id=None,
            idempotency_key=f"test-card-{setup.setup_intent_id}-authenticate",
        )
    confirm_card_setup(setup_intent_id=setup.setup_intent_id)
    pledge.refresh_from_db()
    return pledge
