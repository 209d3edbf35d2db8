"""What a supporter's pledge journey costs the database, request by request, after the form
POST (whose services tests/pledges/test_intake_queries.py guards): the card page, the card
confirm POST and the thank-you page, each with a fixed ceiling, so that a read added to one
of them fails here. bench/request_costs.py prints the same counts with CPU time beside them.
The session is read from the cache (as with Redis in production), so it is not counted."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escrow import stripe_gateway
from escrow.models import CardSetup
from pledges.declarations import ATTESTATION_NAMES, conditions_digest, slate_conditions_text
from pledges.states import PledgeState
from tests.escrow.cards import GOOD
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db

# The pledge with its slate, its card setups, the Stripe customer, the new card setup; and
# around them the user and the header's roles (was 10: the supporter read again, and the
# card setups read twice).
CARD_PAGE_QUERIES = 6
# A supporter's first card page records their Stripe customer, their first thank-you page
# their share code: each a row in a savepoint (two tabs of one supporter may race).
NEW_ROW_QUERIES = 3
# The pledge, its latest card setup, the locked commit (its own 13), the pledge's new state
# (was 20: the slate read again; 18: a first card's pledge, just committed, was looked at for
# a payment its replacement card had made).
CARD_CONFIRM_QUERIES = 17
# The slate, the user, the pledge, the supporter's live kinds and share code, whom their
# links brought, the header's roles (was 10: the referred money summed for nobody referred).
THANKS_QUERIES = 7


def queries_of(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [q["sql"] for q in captured.captured_queries]


def listing(queries: list[str]) -> str:
    return "\n".join(f"{n:>3}. {sql[:160]}" for n, sql in enumerate(queries, 1))


def test_the_card_pages_and_the_thanks_stay_within_their_query_ceilings(client, localstripe):
    slate = make_open_slate(candidates=3, min_signatures=3)
    client.force_login(UserFactory())
    # A supporter's first pledge also records their Stripe customer and their share code.
    pledge_and_save_a_card(client, slate, "journey-1", first_time=True)
    pledge_and_save_a_card(client, slate, "journey-2", first_time=False)


def pledge_and_save_a_card(client, slate, key: str, *, first_time: bool) -> None:
    new_row = NEW_ROW_QUERIES if first_time else 0
    form = {
        "amount": "25", "supporter_state": "NY", "idempotency_key": key,
        "conditions_digest": conditions_digest(slate_conditions_text(slate)),
        **dict.fromkeys(ATTESTATION_NAMES, "on"),
    }  # fmt: skip
    card_path = client.post(f"/slates/{slate.slug}/pledge/", form)["Location"]
    pledge_id = int(re.match(r"^/pledges/(\d+)/card/$", card_path).group(1))

    page, queries = queries_of(lambda: client.get(card_path))
    assert page.status_code == 200
    assert len(queries) <= CARD_PAGE_QUERIES + new_row, listing(queries)

    setup = CardSetup.objects.get(pledge_id=pledge_id)
    stripe_gateway.confirm_setup_intent(  # what Stripe.js does in the browser
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=stripe_gateway.create_test_payment_method(card_number=GOOD),
        idempotency_key=f"browser-{key}",
    )
    confirmed, queries = queries_of(lambda: client.post(f"{card_path}confirm/"))
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/slates/{slate.slug}/thanks/"
    assert len(queries) <= CARD_CONFIRM_QUERIES, listing(queries)
    setup.pledge.refresh_from_db()
    assert setup.pledge.state == PledgeState.COMMITTED

    thanks, queries = queries_of(lambda: client.get(confirmed["Location"]))
    assert thanks.status_code == 200
    assert "Your card is saved" in thanks.content.decode()
    assert len(queries) <= THANKS_QUERIES + new_row, listing(queries)


def test_a_second_visit_to_the_card_page_reuses_its_setup_and_a_new_one_is_numbered(
    localstripe, monkeypatch
):
    """The one read of the pledge's card setups both finds the pending one and numbers the
    next: a card page opened twice makes one SetupIntent; after a failed card, the next
    setup's idempotency key is the second."""
    from escrow.cards import start_card_setup
    from pledges import intake as pledge_intake
    from pledges.declarations import ATTESTED

    keys = []
    create = stripe_gateway.create_setup_intent

    def recording(**kwargs):
        keys.append(kwargs["idempotency_key"])
        return create(**kwargs)

    monkeypatch.setattr(stripe_gateway, "create_setup_intent", recording)
    slate = make_open_slate(candidates=3, min_signatures=3)
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        supporter=supporter, slate=slate, amount_cents=2_500, attestations=ATTESTED
    )
    first = start_card_setup(pledge=pledge, actor=supporter)
    assert start_card_setup(pledge=pledge, actor=supporter) == first
    CardSetup.objects.filter(pk=first.pk).update(status=CardSetup.Status.FAILED)
    second = start_card_setup(pledge=pledge, actor=supporter)
    assert second.pk != first.pk
    assert CardSetup.objects.filter(pledge=pledge).count() == 2
    assert keys == [f"pledge-{pledge.pk}-setup-1", f"pledge-{pledge.pk}-setup-2"]
