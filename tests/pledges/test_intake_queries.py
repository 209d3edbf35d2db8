"""What one money pledge costs the database on the way in: create_money_pledge and then
commit_money_pledge (escrow calls it once Stripe has saved the card), each in its own real
transaction as in production (so no test savepoint is counted). Every guarantee stays (the
slate's shared lock, the pledge's row lock, its history, the totals and supporter count, the
compliance checks and declaration, the outbox notice); the supporter's email and the threshold
evaluation are queued for after the commit, not done in the request: the queue is recorded
here instead of run. bench/load_test.py --queries lists the rest of a pledge's queries (the
pages, the card calls, the tasks)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import Donor
from compliance.rules import SHARED_RULES_KEY, RuleBook
from pledges import intake, services
from pledges.declarations import ATTESTED
from pledges.states import PledgeState
from slate import queue
from tests.factories import UserFactory, make_open_slate
from volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db(transaction=True)

MAX_QUERIES = 20
DETAILS = {
    "first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Way",
    "city": "Portland", "state": "OR", "zip_code": "97201", "employer": "Self-employed",
    "occupation": "Mathematician",
}  # fmt: skip


def queries_text(queries) -> str:
    return "\n".join(f"{n:>3}. {q['sql'][:200]}" for n, q in enumerate(queries, 1))


@pytest.mark.parametrize(
    ("first_pledge", "details"),
    [(True, None), (False, None), (True, DETAILS)],
    # A first-time donor who gives their details has them in the donor record's one insert
    # (was 21: the record inserted, then updated with them).
    ids=["first", "second", "first-with-donor-details"],
)
def test_create_and_commit_a_money_pledge_in_at_most_20_queries(
    first_pledge, details, monkeypatch, settings
):
    # A running server: the contribution rules were read by an earlier pledge (RuleBook.shared).
    settings.SLATE_COMPLIANCE_RULES_CACHE_SECONDS = 60
    cache.delete(SHARED_RULES_KEY)
    RuleBook.shared()
    queued = []
    monkeypatch.setattr(queue, "_send", lambda task, args: queued.append(task.name))
    # A money target: every commit asks for a threshold evaluation (queued).
    slate = make_open_slate(candidates=3, min_money_cents=10**9)
    supporter = UserFactory()
    if not first_pledge:  # the supporter's row on the slate exists already
        earlier = intake.create_money_pledge(
            supporter=supporter, slate=slate, amount_cents=500, attestations=ATTESTED
        )
        services.commit_money_pledge(pledge=earlier)
    queued.clear()
    with CaptureQueriesContext(connection) as captured:
        pledge = intake.create_money_pledge(
            supporter=supporter, slate=slate, amount_cents=2_500, supporter_state="NY",
            attestations=ATTESTED, idempotency_key=f"intake-{first_pledge}",
            donor_details=details,
        )  # fmt: skip
        services.commit_money_pledge(pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.COMMITTED
    if details:
        donor = Donor.objects.get(user=supporter)
        assert {name: getattr(donor, name) for name in details} == details
        assert donor.identity_key == donor.compute_identity_key()
    count = len(captured.captured_queries)
    assert count <= MAX_QUERIES, f"{count} queries:\n{queries_text(captured.captured_queries)}"
    assert sorted(queued) == ["pledges.tasks.notify_supporter", "slate.tasks.evaluate_threshold"]


# A sign-on, BEGIN and COMMIT included: the slate's shared lock, the supporter's live sign-on
# looked for (and locked), the insert, its history, the supporter's live-pledge count, the
# totals (counters and breakdown slices), whether the slate has partner webhooks (was 12: the
# insert in a savepoint).
SIGN_ON_QUERIES = 10
# A volunteer pledge with its details (volunteers.services.pledge_volunteer_hours), BEGIN and
# COMMIT included: the pledge in a savepoint of the details' transaction, its idempotency key
# looked up, the slate's shared lock, the insert, its history, the live-pledge count, the
# totals, the webhooks check, the outbox notice, and the details in one INSERT ... ON CONFLICT
# DO NOTHING (was 19: the pledge's insert in a savepoint of its own, the details read first
# and written in a savepoint).
VOLUNTEER_QUERIES = 14


def test_a_sign_on_costs_at_most_10_queries(monkeypatch):
    queued = []
    monkeypatch.setattr(queue, "_send", lambda task, args: queued.append(task.name))
    slate = make_open_slate(candidates=3)
    supporter = UserFactory()
    queued.clear()
    with CaptureQueriesContext(connection) as captured:
        pledge = intake.sign_on(supporter=supporter, slate=slate, supporter_state="NY")
    assert pledge.state == PledgeState.COMMITTED
    queries = captured.captured_queries
    assert len(queries) <= SIGN_ON_QUERIES, f"{len(queries)} queries:\n{queries_text(queries)}"
    assert queued == []


def test_a_volunteer_pledge_with_its_details_costs_at_most_14_queries(monkeypatch):
    queued = []
    monkeypatch.setattr(queue, "_send", lambda task, args: queued.append(task.name))
    # An hours target: the pledge asks for a threshold evaluation (queued).
    slate = make_open_slate(candidates=3, min_volunteer_hours=10**6)
    supporter = UserFactory()
    queued.clear()
    with CaptureQueriesContext(connection) as captured:
        pledge = volunteer_services.pledge_volunteer_hours(
            supporter=supporter, slate=slate, hours=5, activities=["canvassing"],
            zip_code="10001", mode="remote", idempotency_key="volunteer-queries",
        )  # fmt: skip
    assert pledge.volunteer_details.mode == "remote"
    queries = captured.captured_queries
    assert len(queries) <= VOLUNTEER_QUERIES, f"{len(queries)} queries:\n{queries_text(queries)}"
    assert sorted(queued) == ["pledges.tasks.notify_supporter", "slate.tasks.evaluate_threshold"]
