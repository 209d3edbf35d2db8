"""The release fans a slate's pledges out as independent chunk tasks, and every worker shares
one Stripe request rate through Redis."""

import itertools
import logging
import uuid

import pytest
from django.conf import settings
from django.db.models import Sum
from django.test import override_settings

from escrow import holds, selectors, splits, tasks
from escrow import payments as escrow_payments
from escrow import release as escrow_release
from escrow.models import Payment, Payout
from escrow.ratelimit import RateLimiter, SharedRateLimiter
from escrow.selectors import ledger_problems
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def test_chunk_bounds_cover_every_unsettled_pledge_exactly_once():
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledges = [
        pledge_intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=1_000
        )
        for _ in range(23)
    ]
    cancelled = pledges[3::7]
    for pledge in cancelled:
        pledge_services.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=5, activities=["canvassing"], zip_code="10001"
    )

    bounds = selectors.release_chunk_bounds(slate_id=slate.pk, size=5)

    chunks = [
        selectors.release_chunk_ids(
            slate_id=slate.pk, after_pledge_id=after, upto_pledge_id=upto, limit=1_000
        )
        for after, upto in bounds
    ]
    settled_by_us = [pk for chunk in chunks for pk in chunk]
    unsettled = sorted(p.pk for p in pledges if p not in cancelled)
    assert settled_by_us == unsettled  # every one, once, in order
    assert [len(chunk) for chunk in chunks] == [5, 5, 5, 5]
    assert bounds[0][0] == 0 and bounds[-1][1] == unsettled[-1]
    assert all(upper == lower for (_, upper), (lower, _) in itertools.pairwise(bounds))


def test_chunk_bounds_of_a_slate_without_money_pledges_are_empty():
    slate = make_open_slate(candidates=3, min_signatures=3)
    assert selectors.release_chunk_bounds(slate_id=slate.pk, size=5) == []


@pytest.mark.django_db(transaction=True)
def test_release_settles_each_chunk_in_its_own_task(
    localstripe, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledges = [pledge_with_card(slate, amount_cents=2_000 + index) for index in range(12)]
    for pledge in pledges[::2]:
        holds.authorize_pledge(pledge_id=pledge.pk)
    chunk_calls = []
    send_chunk = tasks.release_chunk.delay
    monkeypatch.setattr(
        tasks.release_chunk, "delay", lambda *args: (chunk_calls.append(args), send_chunk(*args))
    )
    caplog.set_level(logging.WARNING)

    with (
        override_settings(SLATE_RELEASE_CHUNK_SIZE=5),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for candidate in slate_candidates(slate):
            sign(candidate, slate)

    ids = sorted(p.pk for p in pledges)
    assert chunk_calls == [
        (slate.pk, 0, ids[4]),
        (slate.pk, ids[4], ids[9]),
        (slate.pk, ids[9], ids[11]),
    ]
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    assert set(Pledge.objects.filter(slate=slate).values_list("state", flat=True)) == {
        PledgeState.CAPTURED
    }
    total = sum(p.amount_cents for p in pledges)
    assert localstripe.captured_cents_for() == total
    assert Payout.objects.filter(slate=slate).aggregate(s=Sum("amount_cents"))["s"] == total
    assert ledger_problems() == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- the shared rate limit ----------------------------------------------------------------------


@pytest.fixture
def rate_key(settings):
    # A key of this test's own: parallel workers and other runs share the broker's Redis.
    key = f"slate:test-stripe-requests-{uuid.uuid4().hex}"
    limiter = SharedRateLimiter(1, redis_url=settings.CELERY_BROKER_URL, key=key)
    limiter._client.delete(key)
    yield key
    limiter._client.delete(key)


def test_limiters_in_different_processes_share_one_rate(rate_key):
    """Two limiters (as in two worker processes) on one key hand out one sequence of slots a
    second apart; a limiter on its own key is not slowed by them."""
    url = settings.CELERY_BROKER_URL
    # One request every 100 s: each slot is the one before plus exactly 100 s, whichever
    # process asked, so each wait is longer than the one before by 100 s less the time between
    # the two calls, which even a loaded machine keeps far below the 10 s the bounds allow.
    # (At one a second, a call delayed by half a second made the bounds fail.)
    worker_a = SharedRateLimiter(0.01, redis_url=url, key=rate_key)
    worker_b = SharedRateLimiter(0.01, redis_url=url, key=rate_key)

    delays = [(worker_a if turn % 2 else worker_b).reserve() for turn in range(6)]

    assert delays[0] < 10
    steps = [later - earlier for earlier, later in itertools.pairwise(delays)]
    assert all(90 < step <= 100 for step in steps), steps
    assert delays[-1] > 490
    other_account = SharedRateLimiter(0.01, redis_url=url, key=rate_key + "-other")
    assert other_account.reserve() < 10
    other_account._client.delete(rate_key + "-other")


def test_no_limit_means_no_wait(rate_key):
    limiter = SharedRateLimiter(0, redis_url=settings.CELERY_BROKER_URL, key=rate_key)
    assert [limiter.reserve() for _ in range(5)] == [0.0] * 5
    assert RateLimiter(0).reserve() == 0.0


def test_an_unreachable_redis_falls_back_to_a_local_limit(caplog):
    # One request every 100 s (see above: the bounds leave the calls 10 s between them).
    limiter = SharedRateLimiter(0.01, redis_url="redis://127.0.0.1:1/0", key="slate:nowhere")
    with caplog.at_level(logging.WARNING, logger="escrow.ratelimit"):
        first, second = limiter.reserve(), limiter.reserve()
    assert first < 10
    assert 90 < second <= 100  # the local bucket spaces them instead
    assert "limiting locally" in caplog.text


def test_the_release_uses_the_shared_limiter_when_there_is_redis(settings):
    settings.SLATE_STRIPE_REQUESTS_PER_SECOND = 7
    settings.SLATE_RATE_LIMIT_REDIS_URL = settings.CELERY_BROKER_URL
    shared = tasks.stripe_rate_limiter()
    assert isinstance(shared, SharedRateLimiter) and shared.per_second == 7
    assert tasks.stripe_rate_limiter() is shared
    settings.SLATE_RATE_LIMIT_REDIS_URL = ""
    local = tasks.stripe_rate_limiter()
    assert type(local) is RateLimiter and local.per_second == 7


# --- one set of reads per chunk -----------------------------------------------------------------


def _locked_for_release(slate, monkeypatch) -> None:
    """Sign the slate to its lock and start the release without running any chunk."""
    monkeypatch.setattr(tasks.release_slate, "delay", lambda *args, **kwargs: None)
    for candidate in slate_candidates(slate):
        sign(candidate, slate)
    assert escrow_release.start_release(slate_id=slate.pk)


def _settle_with_context(slate, pledge_ids) -> list[str]:
    """Settle ``pledge_ids`` as a chunk task does; the SQL of the queries it took."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        context = splits.release_context(slate_id=slate.pk, pledge_ids=pledge_ids)
        states = [escrow_release.release_pledge(pledge_id=pk, context=context) for pk in pledge_ids]
    assert states == [Payment.Status.SUCCEEDED] * len(pledge_ids)
    return [query["sql"] for query in queries.captured_queries]


# What every pledge of a chunk would read alike, by the table it is read from: the contribution
# limits (and the rules around them), the pledges' allocations, required candidates and
# declarations, their cards and open payments, and the slate's signers.
SHARED_READS = {
    "limits": "compliance_contributionlimit",
    "election cycles": "compliance_electioncycle",
    "allocations": "pledges_pledgeallocation",
    "required candidates": "pledges_pledge_condition_required_candidates",
    "declarations": "compliance_pledgedeclaration",
    "cards": "escrow_cardsetup",
    "signers": "candidates_signature",
}
# The queries one captured pledge costs beyond its chunk's shared reads (README, Benchmarks).
QUERIES_PER_CAPTURE = 25


def _reads_of(sql: list[str], table: str) -> int:
    return sum(1 for q in sql if q.startswith("SELECT") and f'FROM "{table}"' in q)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_reads_its_shared_data_once_and_each_capture_costs_the_same(
    localstripe, monkeypatch
):
    """What every pledge of a chunk would read alike (limits, allocations, cards, signers, ...)
    is read once per chunk, whatever its size, and each captured pledge costs the README's
    number of queries (the locked steps escrow.payments's docstring describes)."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    pledges = [pledge_with_card(slate, amount_cents=3_000 + index) for index in range(9)]
    for pledge in pledges:
        holds.authorize_pledge(pledge_id=pledge.pk)
    _locked_for_release(slate, monkeypatch)
    ids = [p.pk for p in pledges]

    # A first pledge on its own, so that whatever a process reads only once is read already.
    _settle_with_context(slate, ids[:1])
    three = _settle_with_context(slate, ids[1:4])
    five = _settle_with_context(slate, ids[4:9])

    for name, table in SHARED_READS.items():
        assert (_reads_of(three, table), _reads_of(five, table)) == (1, 1), name
    per_pledge, remainder = divmod(len(five) - len(three), 5 - 3)
    assert remainder == 0  # every captured pledge costs the same ...
    assert per_pledge == QUERIES_PER_CAPTURE
    for pledge in pledges:
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_a_pledge_that_moved_after_its_chunk_was_read_is_left_alone(localstripe, monkeypatch):
    """The chunk's snapshot is read without locks; every step locks and checks again. A hold
    let go after the snapshot (say Stripe reported it canceled) is not captured: the pledge
    is voided by that event, the stale chunk step changes nothing, the books balance."""
    slate = make_open_slate(candidates=3, min_signatures=3)
    moved, other = (pledge_with_card(slate, amount_cents=4_000) for _ in range(2))
    for pledge in (moved, other):
        holds.authorize_pledge(pledge_id=pledge.pk)
    _locked_for_release(slate, monkeypatch)
    context = splits.release_context(slate_id=slate.pk, pledge_ids=[moved.pk, other.pk])

    hold = moved.payments.get()
    holds.cancel_payment(
        payment_id=hold.pk, purpose=escrow_payments.CancelPurpose.VOID, reason="test: let go"
    )
    assert escrow_release.release_pledge(pledge_id=moved.pk, context=context) == (
        PledgeState.AUTHORIZED  # what the snapshot said; the locked step refused
    )
    assert escrow_release.release_pledge(pledge_id=other.pk, context=context) == (
        Payment.Status.SUCCEEDED
    )

    moved.refresh_from_db()
    assert moved.state == PledgeState.VOIDED
    assert localstripe.count_captures_for(pledge_id=moved.pk) == 0
    assert localstripe.count_captures_for(pledge_id=other.pk) == 1
    assert ledger_problems() == []


# --- many pledges in their Stripe call at once --------------------------------------------------


def _connections_to_this_database() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_chunk_has_several_pledges_in_their_stripe_call_at_once(localstripe, monkeypatch):
    """Stripe answers in a few hundred milliseconds: a chunk settles its pledges from
    ``threads`` threads, each pledge still captured once, each wait taken from the limiter
    in the thread that then calls Stripe, and every thread's connection closed at the end."""
    import threading

    from escrow import stripe_gateway

    slate = make_open_slate(candidates=3, min_signatures=3)
    pledges = [pledge_with_card(slate, amount_cents=2_000 + index) for index in range(8)]
    for pledge in pledges:
        holds.authorize_pledge(pledge_id=pledge.pk)
    _locked_for_release(slate, monkeypatch)
    ids = [p.pk for p in pledges]

    capture = stripe_gateway.capture
    lock = threading.Lock()
    now = {"in_flight": 0, "peak": 0}
    waits: list[str] = []
    # Each capture waits in Stripe's place until four are in their call at once: settled one
    # (or three) at a time, the barrier is never full, breaks at the deadline (which only bounds
    # that hang) and the captures fail. Eight pledges on four threads fill it twice.
    all_four_in_flight = threading.Barrier(4, timeout=60)

    def slow_capture(**kwargs):
        with lock:
            now["in_flight"] += 1
            now["peak"] = max(now["peak"], now["in_flight"])
        try:
            all_four_in_flight.wait()
            return capture(**kwargs)
        finally:
            with lock:
                now["in_flight"] -= 1

    monkeypatch.setattr(stripe_gateway, "capture", slow_capture)
    before = _connections_to_this_database()
    escrow_release.release_pledges(
        pledge_ids=ids, context=splits.release_context(slate_id=slate.pk, pledge_ids=ids),
        before_each=lambda: waits.append(threading.current_thread().name), threads=4,
    )  # fmt: skip

    assert now["peak"] == 4  # one at a time would never have two
    assert len(waits) == 8 and all(name.startswith("release-") for name in waits)
    for pledge in pledges:
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.CAPTURED
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    assert ledger_problems() == []
    assert _connections_to_this_database() == before  # the threads closed theirs


def test_a_chunk_inside_an_open_transaction_is_settled_in_the_callers_thread(monkeypatch):
    """Other threads' connections could not see rows the caller has not committed (an eager
    task in a test): then the chunk runs where it was called, one pledge after another."""
    import threading

    seen: list[str] = []
    monkeypatch.setattr(
        escrow_release,
        "release_pledge",
        lambda *, pledge_id, context: seen.append(threading.current_thread().name),
    )
    escrow_release.release_pledges(
        pledge_ids=[1, 2, 3], context=None, before_each=lambda: None, threads=8
    )
    assert seen == [threading.current_thread().name] * 3
