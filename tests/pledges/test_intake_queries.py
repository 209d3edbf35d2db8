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

from compliance.rules import SHARED_RULES_KEY, RuleBook
from pledges import intake, services
from pledges.declarations import ATTESTED
from pledges.states import PledgeState
from slate import queue
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db(transaction=True)

MAX_QUERIES = 20


def queries_text(queries) -> str:
    return "\n".join(f"{n:>3}. {q['sql'][:200]}" for n, q in enumerate(queries, 1))


@pytest.mark.parametrize("first_pledge", [True, False], ids=["first", "second"])
def test_create_and_commit_a_money_pledge_in_at_most_20_queries(
    first_pledge, monkeypatch, settings
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
        )  # fmt: skip
        services.commit_money_pledge(pledge=pledge)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.COMMITTED
    count = len(captured.captured_queries)
    assert count <= MAX_QUERIES, f"{count} queries:\n{queries_text(captured.captured_queries)}"
    assert sorted(queued) == ["pledges.tasks.notify_supporter", "slate.tasks.evaluate_threshold"]
