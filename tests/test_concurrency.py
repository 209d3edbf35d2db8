"""Races on real PostgreSQL: threads with their own connections, committing for real."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from candidates.services import CandidateError
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.selectors import recount_slate
from slate import selectors as slate_selectors
from slate.models import SlateTransition
from slate.states import SlateState
from tests.escrow.test_release_at_scale import waits_on_a_lock
from tests.factories import LOCKED_OR_LATER, UserFactory, make_open_slate, sign, slate_candidates
from tests.polling import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(function):
    """Run ``function`` and close this thread's connection, whatever happens."""

    def run(*args):
        try:
            return function(*args)
        finally:
            connection.close()

    return run


@pytest.mark.parametrize("round_number", range(3))
def test_two_simultaneous_final_signatures_lock_exactly_once(slate_events, round_number):
    slate = make_open_slate(candidates=5, min_signatures=3)
    first, second, third, fourth, _ = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)  # K-1 signatures are in
    barrier = threading.Barrier(2)

    @_in_thread
    def race(candidate):
        barrier.wait()
        try:
            sign(candidate, slate)
            return "signed"
        except CandidateError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(race, [third, fourth]))

    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    # Whichever signed second either also got in (the lock came after) or was refused.
    assert "signed" in outcomes
    assert set(outcomes) <= {"signed", "slate_closed"}
    assert SlateTransition.objects.filter(slate=slate, to_state=SlateState.LOCKED).count() == 1
    assert slate_events.count(("slate_locked", slate.pk)) == 1


@pytest.mark.slow
def test_two_hundred_concurrent_pledges_leave_totals_equal_to_a_recount():
    slate = make_open_slate(candidates=3, min_signatures=3, min_money_cents=10**9)
    supporters = [UserFactory() for _ in range(100)]
    states = ["CA", "NY", "TX", "", "WA"]

    @_in_thread
    def pledge(index):
        supporter = supporters[index % len(supporters)]
        if index % 4 == 3:
            return pledge_intake.create_volunteer_pledge(
                supporter=supporter, slate=slate, hours=index % 9 + 1,
                activities=["text_banking"], zip_code="60601",
                supporter_state=states[index % len(states)],
            ).pk  # fmt: skip
        created = pledge_intake.create_money_pledge(attestations=ATTESTED,
            supporter=supporter, slate=slate, amount_cents=100 * (index + 1),
            supporter_state=states[index % len(states)],
        )  # fmt: skip
        return pledge_services.commit_money_pledge(pledge=created).pk

    with ThreadPoolExecutor(max_workers=12) as pool:
        pledge_ids = list(pool.map(pledge, range(200)))

    @_in_thread
    def cancel(pledge_id):
        pledge = pledge_services.Pledge.objects.select_related("slate").get(pk=pledge_id)
        return pledge_services.cancel_pledge(pledge=pledge, actor=pledge.supporter).state

    # Cancel a quarter of them concurrently, while new pledges keep arriving.
    with ThreadPoolExecutor(max_workers=12) as pool:
        cancelled = list(pool.map(cancel, pledge_ids[:50]))
        more = list(pool.map(pledge, range(200, 240)))

    assert len(set(pledge_ids + more)) == 240
    assert set(cancelled) == {"cancelled"}
    recount = recount_slate(slate.pk)
    assert slate_selectors.slate_counts(slate.pk) == recount.counts
    live_indexes = [i for i in range(50, 240) if i % 4 != 3]
    live_money = sum(100 * (i + 1) for i in live_indexes)
    assert recount.counts.money_pledged_cents == live_money
    by_state = dict(slate_selectors.slate_breakdown(slate.pk, "state"))
    assert by_state == {k: v for (d, k), v in recount.breakdown.items() if d == "state"}


def _second_inserts_while_the_first_is_uncommitted(first_call, second_call) -> dict:
    """Run ``first_call`` in a transaction held open, then ``second_call`` in another thread,
    whose insert collides with the first's uncommitted row and waits for it; let the first
    commit only once the second is stuck on that lock. Returns each call's result (or the
    exception it raised) under "first" and "second"."""
    first_done, second_pid, results = threading.Event(), {}, {}
    let_first_commit = threading.Event()

    @_in_thread
    def first():
        with transaction.atomic():
            results["first"] = first_call()
            first_done.set()
            assert let_first_commit.wait(30)

    @_in_thread
    def second():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid["pid"] = cursor.fetchone()[0]
        assert first_done.wait(30)
        try:
            results["second"] = second_call()
        except Exception as exc:  # the test looks at what it was
            results["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert wait_for(lambda: waits_on_a_lock(second_pid.get("pid")))
    finally:
        let_first_commit.set()
        for thread in threads:
            thread.join(60)
    return results


def test_a_sign_on_racing_the_same_supporters_is_refused_once_the_first_commits():
    slate = make_open_slate(candidates=3)
    supporter = UserFactory()

    def sign_on():
        return pledge_intake.sign_on(supporter=supporter, slate=slate)

    results = _second_inserts_while_the_first_is_uncommitted(sign_on, sign_on)
    assert isinstance(results["second"], pledge_services.PledgeError), results["second"]
    assert results["second"].code == "already_signed_on"
    assert list(pledge_services.Pledge.objects.filter(supporter=supporter)) == [results["first"]]
    assert slate_selectors.slate_counts(slate.pk) == recount_slate(slate.pk).counts
    assert slate_selectors.slate_counts(slate.pk).signon_count == 1


def test_a_volunteer_pledge_racing_one_with_its_key_returns_the_first():
    slate = make_open_slate(candidates=3)
    supporter = UserFactory()

    def volunteer():
        return pledge_intake.create_volunteer_pledge(
            supporter=supporter, slate=slate, hours=3, activities=["canvassing"],
            zip_code="60601", idempotency_key="same-request",
        )  # fmt: skip

    results = _second_inserts_while_the_first_is_uncommitted(volunteer, volunteer)
    assert results["second"] == results["first"]
    assert list(pledge_services.Pledge.objects.filter(supporter=supporter)) == [results["first"]]
    assert slate_selectors.slate_counts(slate.pk).volunteer_hours == 3
