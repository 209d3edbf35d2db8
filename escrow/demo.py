"""Test cards for the demo data, saved through the real card-intake path."""

from django.conf import settings

from pledges.models import Pledge

from . import services, stripe_gateway

DEMO_CARD = "4242424242424242"


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def save_demo_card(pledge: Pledge) -> Pledge:
    """What the pledge page does with Stripe.js, done server-side with a test card."""
    setup = services.start_card_setup(pledge=pledge, actor=pledge.supporter)
    payment_method = stripe_gateway.create_test_payment_method(card_number=DEMO_CARD)
    stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=payment_method,
        idempotency_key=f"demo-confirm-{pledge.pk}",
    )
    services.confirm_card_setup(setup_intent_id=setup.setup_intent_id)
    pledge.refresh_from_db()
    return pledge
