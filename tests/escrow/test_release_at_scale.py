"""Release at a realistic size, against localstripe over HTTP: fifty supporters, half of them
holding an authorization, one lock; a supporter cancelling at the very moment the lock's
release reaches their pledge (raced with a barrier, then the narrowest interleaving made
deterministic); two payout runs at once; and crashes or refusals around the release. Money is
checked on Stripe's side (each pledge captured exactly once) and in our books
(``ledger_problems``, ``check_ledger``, payouts = captures)."""

import io
import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from escrow import errors as escrow_errors
from escrow import holds as escrow_holds
from escrow import needs_action, stripe_gateway, sweeper, voiding
from escrow.models import Payment, Payout
from escrow.selectors import ledger_problems
from pledges.models import Pledge
from pledges.states import PledgeState
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates
from tests.polling import wait_for

SUPPORTERS = 50
RACE_ROUNDS = 10
# How each round orders the two sides after the barrier, by waiting on what the other side
# committed (not on the clock, which a loaded machine stretches): the cancel first (the lock
# waits until the pledge reads cancelled), both at once, or the lock first (the cancel waits
# until the slate no longer reads open, and so lands while the release is under way).
RACE_ORDERS = ["cancel_first", "together", "lock_first"]
# Bounds a hang only: each side normally sees the other's commit within a second.
ORDER_WAIT_SECONDS = 60


def captures_by_pledge(localstripe) -> Counter:
    """How many times money was taken for each pledge, in three list calls whatever the
    number of pledges: the same count as ``localstripe.count_captures_for(pledge_id=...)``
    (``charge`` balance transactions of the charges of every PaymentIntent carrying the
    pledge's id in its metadata), batched."""
    pledge_of_intent = {
        intent["id"]: int(intent["metadata"]["pledge_id"])
        for intent in localstripe.list_all("/v1/payment_intents")
        if (intent.get("metadata") or {}).get("pledge_id")
    }
    intent_of_charge = {
        charge["id"]: charge.get("payment_intent") for charge in localstripe.list_all("/v1/charges")
    }
    counts: Counter = Counter()
    for txn in localstripe.list_all("/v1/balance_transactions"):
        if txn["type"] != "charge":
            continue
        pledge_id = pledge_of_intent.get(intent_of_charge.get(txn["source"]))
        if pledge_id is not None:
            counts[pledge_id] += 1
    return counts


def captured_cents_on_stripe(localstripe, pledge_ids) -> int:
    """Money taken for these pledges according to localstripe's balance transactions."""
    wanted = {str(pk) for pk in pledge_ids}
    intents = {
        intent["id"]
        for intent in localstripe.list_all("/v1/payment_intents")
        if (intent.get("metadata") or {}).get("pledge_id") in wanted
    }
    charges = {
        charge["id"]
        for charge in localstripe.list_all("/v1/charges")
        if charge.get("payment_intent") in intents
    }
    return sum(
        txn["amount"]
        for txn in localstripe.list_all("/v1/balance_transactions")
        if txn["type"] == "charge" and txn["source"] in charges
    )


def payouts_cents(slate) -> int:
    return Payout.objects.filter(slate=slate).aggregate(s=Sum("amount_cents"))["s"] or 0


def captured_cents(slate) -> int:
    return (
        Pledge.objects.filter(slate=slate, state=PledgeState.CAPTURED).aggregate(
            s=Sum("captured_cents")
        )["s"]
        or 0
    )


def assert_ledger_ok() -> None:
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip() == "ledger ok"


# --- fifty supporters, one lock -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
@override_settings(SLATE_RELEASE_CHUNK_SIZE=7)  # several chunks: the chain is walked too
def test_fifty_supporters_are_each_captured_once_and_paid_out(
    localstripe, django_capture_on_commit_callbacks, caplog
):
    slate = make_open_slate(candidates=5, min_signatures=3)
    pledges = [
        pledge_with_card(slate, amount_cents=1_000 + 37 * index) for index in range(SUPPORTERS)
    ]
    held = pledges[::2]
    for pledge in held:
        payment = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
        assert payment.status == Payment.Status.REQUIRES_CAPTURE
    assert len(localstripe.payment_intents_for()) == len(held)

    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        for candidate in slate_candidates(slate)[:3]:
            sign(candidate, slate)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]

    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    states = Counter(Pledge.objects.filter(slate=slate).values_list("state", flat=True))
    assert states == {PledgeState.CAPTURED: SUPPORTERS}
    for pledge in pledges:
        pledge.refresh_from_db()
        assert pledge.captured_cents == pledge.amount_cents
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1, pledge.pk
    # The held half was captured (one intent each); the other half charged off-session.
    assert captures_by_pledge(localstripe) == {p.pk: 1 for p in pledges}
    assert {len(localstripe.payment_intents_for(pledge_id=p.pk)) for p in pledges} == {1}

    total = sum(p.amount_cents for p in pledges)
    assert captured_cents(slate) == total
    assert captured_cents_on_stripe(localstripe, [p.pk for p in pledges]) == total
    assert payouts_cents(slate) == total
    signed = {c.pk for c in slate_candidates(slate)[:3]}
    assert set(Payout.objects.filter(slate=slate).values_list("candidate_id", flat=True)) == signed
    assert not Payout.objects.filter(slate=slate, status__in=["pending", "sending"]).exists()
    assert ledger_problems() == []
    assert_ledger_ok()


# --- a supporter cancels while the release captures ---------------------------------------------


def _race_round(*, held: bool, order: str) -> dict:
    """One slate, one target pledge (held or not) and one bystander; a candidate's signature
    locks the slate (its on-commit work releases it, eagerly, in the signing thread) while the
    target's supporter cancels, in ``order``. Returns what each side saw."""
    slate = make_open_slate(candidates=2, min_signatures=1)
    candidate = slate_candidates(slate)[0]
    target = pledge_with_card(slate, amount_cents=4_321)
    bystander = pledge_with_card(slate, amount_cents=1_234)
    escrow_holds.authorize_pledge(pledge_id=bystander.pk)
    if held:
        escrow_holds.authorize_pledge(pledge_id=target.pk)
    target.refresh_from_db()

    barrier = threading.Barrier(2)
    seen: dict = {}

    def cancel() -> None:
        try:
            barrier.wait()
            if order == "lock_first":
                assert wait_for(
                    lambda: Slate.objects.get(pk=slate.pk).state != SlateState.OPEN,
                    timeout=ORDER_WAIT_SECONDS,
                    interval=0.005,
                ), "the lock never committed"
            voiding.cancel_pledge(pledge=target, actor=target.supporter)
            seen["cancel"] = "cancelled"
        except escrow_errors.EscrowError as exc:
            seen["cancel"] = f"refused:{exc.code}"
        except Exception as exc:  # anything else is a failure of the test
            seen["cancel"] = f"error:{exc!r}"
        finally:
            connection.close()

    def lock_and_release() -> None:
        try:
            barrier.wait()
            if order == "cancel_first":
                assert wait_for(
                    lambda: Pledge.objects.get(pk=target.pk).state == PledgeState.CANCELLED,
                    timeout=ORDER_WAIT_SECONDS,
                    interval=0.005,
                ), "the cancel never committed"
            sign(candidate, slate)  # on commit: evaluate -> lock -> release, all eager
            seen["sign"] = "signed"
        except Exception as exc:
            seen["sign"] = f"error:{exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel), threading.Thread(target=lock_and_release)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"

    slate.refresh_from_db()
    seen["slate_after_race"] = slate.state
    if slate.state == SlateState.RELEASING:
        # The cancel had marked its payment ``canceling`` before the lock, so the release
        # skipped it and could not finish; the beat sweeper re-walks releasing slates.
        sweeper.sweep()
        slate.refresh_from_db()
    seen.update(slate=slate, target=target, bystander=bystander, held=held)
    return seen


@pytest.mark.django_db(transaction=True)
def test_cancel_racing_the_release_has_exactly_one_winner(localstripe, caplog):
    caplog.set_level(logging.WARNING)
    outcomes = []
    for round_number in range(RACE_ROUNDS):
        order = RACE_ORDERS[round_number % len(RACE_ORDERS)]
        seen = _race_round(held=round_number % 2 == 0, order=order)
        if order == "cancel_first":
            assert seen["cancel"] == "cancelled", seen
        elif order == "lock_first":
            assert seen["cancel"].startswith("refused:"), seen
        slate, target, bystander = seen["slate"], seen["target"], seen["bystander"]
        assert seen["sign"] == "signed", seen
        assert seen["cancel"] == "cancelled" or seen["cancel"].startswith("refused:"), seen
        target.refresh_from_db()
        bystander.refresh_from_db()
        captures = captures_by_pledge(localstripe)
        if seen["cancel"] == "cancelled":
            # The cancel won: nothing taken, the hold (if any) released, the capture a no-op.
            assert target.state == PledgeState.CANCELLED, seen
            assert captures[target.pk] == 0, seen
            for payment in Payment.objects.filter(pledge=target):
                assert payment.status == Payment.Status.CANCELED
                intent = localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")
                assert intent["status"] == "canceled"
        else:
            # The lock won: the pledge was final, captured once, and the cancel refused.
            assert target.state == PledgeState.CAPTURED, seen
            assert captures[target.pk] == 1, seen
            assert target.captured_cents == target.amount_cents
        assert bystander.state == PledgeState.CAPTURED
        assert captures[bystander.pk] == 1
        assert slate.state == SlateState.RELEASED, seen
        assert payouts_cents(slate) == captured_cents(slate)
        assert ledger_problems() == [], seen
        outcomes.append(
            (seen["held"], seen["cancel"].split(":")[0], seen["slate_after_race"] == "releasing")
        )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert_ledger_ok()
    print("race outcomes (held, cancel, needed a sweep):", Counter(outcomes))
    # Both outcomes happened (the ordered rounds make each one happen on any machine).
    assert {outcome for _, outcome, _ in outcomes} == {"cancelled", "refused"}


@pytest.mark.django_db(transaction=True)
def test_release_reaching_a_pledge_whose_cancel_is_in_flight_leaves_it_to_the_cancel(
    localstripe, monkeypatch
):
    """The narrowest interleaving, made deterministic: the supporter's cancel has marked its
    payment ``canceling`` (before the lock) and is waiting for Stripe when the lock's release
    reaches the pledge. The release must not capture it; the cancel finishes; the sweeper then
    completes the release."""
    slate = make_open_slate(candidates=2, min_signatures=1)
    target = pledge_with_card(slate, amount_cents=4_321)
    bystander = pledge_with_card(slate, amount_cents=1_234)
    for pledge in (target, bystander):
        escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    in_flight, go = threading.Event(), threading.Event()
    real_cancel = stripe_gateway.cancel

    def stalled_cancel(**kwargs):
        in_flight.set()
        assert go.wait(60)
        return real_cancel(**kwargs)

    monkeypatch.setattr(stripe_gateway, "cancel", stalled_cancel)
    seen = {}

    def cancel() -> None:
        try:
            voiding.cancel_pledge(pledge=target, actor=target.supporter)
            seen["cancel"] = "cancelled"
        except Exception as exc:
            seen["cancel"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=cancel)
    thread.start()
    try:
        assert in_flight.wait(30), "the cancel never reached Stripe"
        sign(slate_candidates(slate)[0], slate)  # lock and release, eagerly, in this thread
        slate.refresh_from_db()
        target.refresh_from_db()
        assert slate.state == SlateState.RELEASING
        assert target.state == PledgeState.AUTHORIZED
        assert Payment.objects.get(pledge=target).status == Payment.Status.CANCELING
    finally:
        go.set()
        thread.join(60)
    assert seen == {"cancel": "cancelled"}
    target.refresh_from_db()
    bystander.refresh_from_db()
    assert target.state == PledgeState.CANCELLED
    assert bystander.state == PledgeState.CAPTURED
    assert captures_by_pledge(localstripe) == {bystander.pk: 1}
    sweeper.sweep()
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    assert payouts_cents(slate) == captured_cents(slate) == bystander.amount_cents
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_payout_scheduling_racing_a_payout_being_sent_never_pays_twice(localstripe, monkeypatch):
    """Two ``pay_candidates`` at once (the release's last chunk and the beat sweeper both
    enqueue one): one is between reading what a candidate is owed and reading their unsent
    payouts while the other records a payout as sent. The scheduler holds the slate row
    ``FOR UPDATE``; the sender's ledger rows reference the slate, and PostgreSQL's (deferred)
    foreign-key check takes ``FOR KEY SHARE`` on it at commit, so the sender cannot commit in
    that window. If it could, the scheduler would pay the same money a second time."""
    from escrow import payouts, tasks

    class NoPayouts:
        @staticmethod
        def delay(*args):
            return None

    monkeypatch.setattr(tasks, "pay_candidates", NoPayouts)
    slate = make_open_slate(candidates=2, min_signatures=2)
    for amount in (3_000, 4_001):
        pledge_with_card(slate, amount_cents=amount)
    for candidate in slate_candidates(slate):
        sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    assert not Payout.objects.filter(slate=slate).exists()
    first = payouts.schedule_payouts(slate_id=slate.pk)
    assert sum(p.amount_cents for p in first) == 7_001

    owed_read, sent = threading.Event(), threading.Event()
    scheduler: dict = {}
    sender: dict = {}
    real_filter = Payout.objects.filter

    def filter_after_owed_was_read(*args, **kwargs):
        # The first Payout query of schedule_payouts is the reserved (unsent) sum, one of the
        # two reads owed is made of. Read after the payable balance (as in a mutation that
        # swapped them), a payout sent in between would be paid again without the slate lock;
        # read before it, as now, the sender's posting lowers the payable too.
        if threading.current_thread() is scheduler.get("thread") and not owed_read.is_set():
            owed_read.set()
            # Go on once the sender is stuck behind our slate lock, or (the bug this test
            # is for) once it has sent: no fixed wait either way.
            assert wait_for(lambda: sent.is_set() or waits_on_a_lock(sender.get("pid")))
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Payout.objects, "filter", filter_after_owed_was_read)
    results: dict = {}

    def schedule() -> None:
        try:
            results["scheduled"] = payouts.schedule_payouts(slate_id=slate.pk)
        finally:
            connection.close()

    def send() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                sender["pid"] = cursor.fetchone()[0]
            assert owed_read.wait(30)
            for payout in first:
                payouts.send_payout(payout_id=payout.pk)
            sent.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule), threading.Thread(target=send)]
    scheduler["thread"] = threads[0]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["scheduled"] == []
    for payout_id in Payout.objects.filter(status="pending").values_list("pk", flat=True):
        payouts.send_payout(payout_id=payout_id)
    assert payouts_cents(slate) == captured_cents(slate) == 7_001
    assert ledger_problems() == []


def waits_on_a_lock(backend_pid: int | None) -> bool:
    """Whether that PostgreSQL backend is blocked on a lock now. Asked on a connection of its
    own: inside a transaction pg_stat_activity is a snapshot taken at its first read."""
    if backend_pid is None:
        return False
    watcher = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with watcher.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                [backend_pid],
            )
            row = cursor.fetchone()
    finally:
        watcher.close()
    return bool(row and row[0])


# --- crashes and refusals around the release ------------------------------------------------


class Crash(BaseException):
    """The process dies here (a BaseException, so no ``except Exception`` swallows it)."""


def _crash(**kwargs):
    raise Crash


@pytest.mark.django_db
def test_supporter_cancel_interrupted_before_the_lock_is_finished_by_the_sweeper(
    localstripe, django_capture_on_commit_callbacks, monkeypatch
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    target = pledge_with_card(slate, amount_cents=4_321)
    bystander = pledge_with_card(slate, amount_cents=1_234)
    payment = escrow_holds.authorize_pledge(pledge_id=target.pk)
    # The supporter's cancel records its intent (``canceling``), then the worker dies before
    # Stripe hears of it.
    monkeypatch.setattr(stripe_gateway, "cancel", _crash)
    with pytest.raises(Crash):
        voiding.cancel_pledge(pledge=target, actor=target.supporter)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    payment.refresh_from_db()
    target.refresh_from_db()
    slate.refresh_from_db()
    # Today: payment stays "canceling", pledge "authorized", slate "releasing", the card keeps
    # its hold, and every sweep logs "could not resume payment".
    assert payment.status == Payment.Status.CANCELED
    assert target.state == PledgeState.CANCELLED
    intent = localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")
    assert intent["status"] == "canceled"
    assert captures_by_pledge(localstripe) == {bystander.pk: 1}
    assert slate.state == SlateState.RELEASED


@pytest.mark.django_db
def test_ledger_check_accepts_a_hold_whose_cancel_is_in_flight(localstripe, monkeypatch):
    slate = make_open_slate(candidates=2, min_signatures=1)
    target = pledge_with_card(slate, amount_cents=4_321)
    payment = escrow_holds.authorize_pledge(pledge_id=target.pk)
    monkeypatch.setattr(stripe_gateway, "cancel", _crash)
    with pytest.raises(Crash):
        voiding.cancel_pledge(pledge=target, actor=target.supporter)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELING
    intent = localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")
    assert intent["status"] == "requires_capture"  # the money is still held on the card
    assert ledger_problems() == []  # today: "ledger holds 4321 but open hold is 0"


@pytest.mark.django_db
def test_one_pledge_stripe_refuses_does_not_hold_up_the_release(
    localstripe, django_capture_on_commit_callbacks, caplog
):
    from escrow.models import CardSetup
    from tests.localstripe import _request

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledges = [pledge_with_card(slate, amount_cents=1_000 + index) for index in range(4)]
    # Stripe no longer knows the second supporter's customer (deleted in the dashboard, a
    # privacy request...): charging their saved card is refused with invalid_request_error.
    customer_id = CardSetup.objects.get(pledge=pledges[1]).customer.customer_id
    status, _ = _request(
        "DELETE", f"{localstripe.url}/v1/customers/{customer_id}", headers=localstripe._auth()
    )
    assert status == 200
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    states = [Pledge.objects.get(pk=p.pk).state for p in pledges]
    # Before 80a1aa7: ['captured', 'committed', 'committed', 'committed'], the error logged as
    # "could not enqueue escrow.tasks.release_slate", and the second pledge's payment left
    # 'creating' for the sweeper to retry (and log) every minute, the slate 'releasing'.
    assert states[0] == states[2] == states[3] == PledgeState.CAPTURED
    assert states[1] == PledgeState.NEEDS_ACTION  # the supporter is asked for another card
    assert not Payment.objects.filter(status=Payment.Status.CREATING).exists()
    # No new card within the grace period: the pledge fails and the release completes.
    later = timezone.now() + timedelta(days=8)
    assert needs_action.fail_overdue_needs_action(now=later) == 1
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    assert captures_by_pledge(localstripe) == {p.pk: 1 for p in pledges if p != pledges[1]}
    assert ledger_problems() == []


@pytest.mark.django_db
def test_sweeper_resuming_a_charge_stripe_now_refuses_fails_it(
    localstripe, django_capture_on_commit_callbacks, monkeypatch
):
    from escrow.models import CardSetup
    from tests.localstripe import _request

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate)
    # The worker dies as it sends the off-session charge at release...
    monkeypatch.setattr(stripe_gateway, "charge_off_session", _crash)
    with pytest.raises(Crash), django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    monkeypatch.undo()
    payment = Payment.objects.get(pledge=pledge)
    assert payment.status == Payment.Status.CREATING
    # ...and by the time the sweeper resends it, Stripe refuses it for good.
    customer_id = CardSetup.objects.get(pledge=pledge).customer.customer_id
    status, _ = _request(
        "DELETE", f"{localstripe.url}/v1/customers/{customer_id}", headers=localstripe._auth()
    )
    assert status == 200
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    payment.refresh_from_db()
    pledge.refresh_from_db()
    # Today: still 'creating'; every sweep logs "could not resume payment" and resends it.
    assert payment.status == Payment.Status.FAILED
    assert pledge.state == PledgeState.NEEDS_ACTION
