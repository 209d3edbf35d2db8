"""Supporters with saved cards, made the way the pledge page does it (Stripe.js confirms the
SetupIntent in the browser; here the gateway's test helper does that step)."""

from escrow import services as escrow_services
from escrow import stripe_gateway
from pledges import services as pledge_services
from tests.factories import UserFactory

GOOD = "4242424242424242"
NEEDS_AUTH = "4000002500003155"
NEEDS_AUTH_ALWAYS = "4000002760003184"
DECLINED = "4000000000000002"


def pledge_with_card(slate, *, amount_cents=5_000, card=GOOD, supporter=None, **pledge_kwargs):
    supporter = supporter or UserFactory()
    pledge = pledge_services.create_money_pledge(
        supporter=supporter, slate=slate, amount_cents=amount_cents, **pledge_kwargs
    )
    setup = escrow_services.start_card_setup(pledge=pledge, actor=supporter)
    payment_method = stripe_gateway.create_test_payment_method(card_number=card)
    result = stripe_gateway.confirm_setup_intent(
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=payment_method,
        idempotency_key=f"test-confirm-{pledge.pk}",
    )
    if result.status == "requires_action":
        # The bank asks for 3-D Secure; the supporter passes it in Stripe.js, which confirms
        # the SetupIntent again (localstripe: a confirm without a payment method succeeds).
        stripe_gateway.confirm_setup_intent(
            setup_intent_id=setup.setup_intent_id,
            payment_method_id=None,
            idempotency_key=f"test-authenticate-{pledge.pk}",
        )
    escrow_services.confirm_card_setup(setup_intent_id=setup.setup_intent_id)
    pledge.refresh_from_db()
    return pledge
