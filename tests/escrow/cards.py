"""Supporters with saved cards, made the way the pledge page does it."""

from demo.cards import save_test_card
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from tests.factories import UserFactory

GOOD = "4242424242424242"
NEEDS_AUTH = "4000002500003155"
NEEDS_AUTH_ALWAYS = "4000002760003184"
DECLINED = "4000000000000002"  # refused when saved
DECLINED_AT_CHARGE = "4000000000000341"  # saved, then declined on every charge


def pledge_with_card(slate, *, amount_cents=5_000, card=GOOD, supporter=None, **pledge_kwargs):
    supporter = supporter or UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=supporter,
        slate=slate,
        amount_cents=amount_cents,
        **pledge_kwargs,
    )
    return save_test_card(pledge, card)
