"""Pledges: intake validation, the state table, cancellation, expiry voiding and totals."""

from datetime import timedelta

import pytest
from django.test import override_settings

from pledges import intake, services
from pledges.declarations import ATTESTED
from pledges.models import Pledge, PledgeEvent
from pledges.selectors import recount_slate
from pledges.services import PledgeError
from pledges.states import (
    MONEY_TRANSITIONS,
    NON_MONEY_TRANSITIONS,
    PledgeKind,
    PledgeState,
)
from slate import lifecycle as slate_lifecycle
from slate import partners as slate_partners
from slate import selectors as slate_selectors
from slate.models import Slate
from slate.states import SlateState
from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_open_slate,
    make_staff,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


def money(slate, supporter=None, amount=5_000, **kwargs):
    pledge = intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=supporter or UserFactory(),
        slate=slate,
        amount_cents=amount,
        **kwargs,
    )
    return services.commit_money_pledge(pledge=pledge)


def volunteer(slate, supporter=None, hours=10, **kwargs):
    return intake.create_volunteer_pledge(
        supporter=supporter or UserFactory(), slate=slate, hours=hours,
        activities=["canvassing"], zip_code="94110", **kwargs,
    )  # fmt: skip


def assert_totals_match_recount(slate):
    recount = recount_slate(slate.pk)
    assert slate_selectors.slate_counts(slate.pk) == recount.counts
    for dimension in ("state", "partner", "day"):
        maintained = dict(slate_selectors.slate_breakdown(slate.pk, dimension))
        expected = {k: v for (d, k), v in recount.breakdown.items() if d == dimension}
        assert maintained == expected


@pytest.fixture
def open_slate():
    return make_open_slate()


# How to reach each state through allowed transitions from a new pledge.
PATHS = {
    PledgeState.PENDING_CARD: [],
    PledgeState.COMMITTED: ["committed"],
    PledgeState.AUTHORIZED: ["committed", "authorized"],
    PledgeState.NEEDS_ACTION: ["committed", "needs_action"],
    PledgeState.CAPTURED: ["committed", "captured"],
    PledgeState.PAID_OUT: ["committed", "captured", "paid_out"],
    PledgeState.FAILED: ["committed", "needs_action", "failed"],
    PledgeState.CANCELLED: ["cancelled"],
    PledgeState.VOIDED: ["voided"],
    PledgeState.REFUNDED: ["committed", "captured", "refunded"],
}


def _pledge_in_state(slate, kind, state):
    if kind == PledgeKind.MONEY:
        pledge = intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=1000
        )
        path = PATHS[state]
    else:
        pledge = (
            volunteer(slate)
            if kind == PledgeKind.VOLUNTEER
            else intake.sign_on(supporter=UserFactory(), slate=slate)
        )
        path = [] if state == PledgeState.COMMITTED else [state]
    for step in path:
        extra = {"captured_cents": 1000} if step == "captured" else {}
        if step == "refunded":
            extra = {"refunded_cents": 1000}
        pledge = services.transition_pledge(pledge=pledge, to_state=step, reason="setup", **extra)
    assert pledge.state == state
    return pledge


TABLE_CASES = [
    (kind, a, b)
    for kind, table in (
        (PledgeKind.MONEY, MONEY_TRANSITIONS),
        (PledgeKind.VOLUNTEER, NON_MONEY_TRANSITIONS),
        (PledgeKind.SIGNON, NON_MONEY_TRANSITIONS),
    )
    for a in table
    for b in PledgeState.values
]


@pytest.mark.parametrize(("kind", "from_state", "to_state"), TABLE_CASES)
def test_pledge_state_table_is_enforced(open_slate, kind, from_state, to_state):
    pledge = _pledge_in_state(open_slate, kind, from_state)
    table = MONEY_TRANSITIONS if kind == PledgeKind.MONEY else NON_MONEY_TRANSITIONS
    events_before = PledgeEvent.objects.filter(pledge=pledge).count()
    if to_state in table[from_state]:
        services.transition_pledge(pledge=pledge, to_state=to_state, reason="test")
        pledge.refresh_from_db()
        assert pledge.state == to_state
        assert PledgeEvent.objects.filter(pledge=pledge).count() == events_before + 1
    else:
        with pytest.raises(PledgeError) as excinfo:
            services.transition_pledge(pledge=pledge, to_state=to_state, reason="test")
        assert excinfo.value.code == "invalid_transition"
        pledge.refresh_from_db()
        assert pledge.state == from_state
        assert PledgeEvent.objects.filter(pledge=pledge).count() == events_before
    assert_totals_match_recount(open_slate)


@pytest.mark.parametrize(
    ("amount", "code"),
    [(0, "amount_too_small"), (-500, "amount_too_small"), (99, "amount_too_small"),
     (2_800_001, "amount_too_large"), (10.5, "invalid_amount"), ("100", "invalid_amount"),
     (True, "invalid_amount")],
)  # fmt: skip
def test_bad_amounts_are_refused_and_write_nothing(open_slate, amount, code):
    with pytest.raises(PledgeError) as excinfo:
        intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=open_slate, amount_cents=amount
        )
    assert excinfo.value.code == code
    assert excinfo.value.field == "amount_cents"
    assert not Pledge.objects.exists()


@override_settings(SLATE_MAX_PLEDGE_CENTS=10_000)
def test_the_maximum_comes_from_settings(open_slate):
    with pytest.raises(PledgeError):
        intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=open_slate, amount_cents=10_001
        )
    assert (
        intake.create_money_pledge(
            attestations=ATTESTED, supporter=UserFactory(), slate=open_slate, amount_cents=10_000
        ).amount_cents
        == 10_000
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hours": 0}, "hours"),
        ({"hours": -3}, "hours"),
        ({"hours": 5000}, "hours"),
        ({"activities": []}, "activities"),
        ({"activities": ["juggling"]}, "activities"),
        ({"zip_code": "1234"}, "zip_code"),
        ({"zip_code": "abcde"}, "zip_code"),
        ({"supporter_state": "XX"}, "supporter_state"),
    ],
)
def test_bad_volunteer_pledges_are_refused(open_slate, kwargs, field):
    arguments = {
        "supporter": UserFactory(), "slate": open_slate, "hours": 4,
        "activities": ["phone_banking"], "zip_code": "10001",
    }  # fmt: skip
    arguments.update(kwargs)
    with pytest.raises(PledgeError) as excinfo:
        intake.create_volunteer_pledge(**arguments)
    assert excinfo.value.field == field
    assert not Pledge.objects.exists()


def test_conditions_must_name_candidates_on_the_slate(open_slate):
    other_slate = make_open_slate()
    stranger = slate_candidates(other_slate)[0]
    with pytest.raises(PledgeError) as excinfo:
        intake.create_money_pledge(attestations=ATTESTED,
            supporter=UserFactory(), slate=open_slate, amount_cents=1000,
            condition_candidate_ids=[stranger.pk],
        )  # fmt: skip
    assert excinfo.value.code == "unknown_candidate"
    with pytest.raises(PledgeError):
        intake.create_money_pledge(attestations=ATTESTED,
            supporter=UserFactory(), slate=open_slate, amount_cents=1000,
            condition_min_signatures=99,
        )  # fmt: skip
    assert not Pledge.objects.filter(slate=open_slate).exists()


def test_conditions_and_allocation_are_stored(open_slate):
    a, b = slate_candidates(open_slate)[:2]
    pledge = intake.create_money_pledge(attestations=ATTESTED,
        supporter=UserFactory(), slate=open_slate, amount_cents=10_000,
        condition_min_signatures=4, condition_candidate_ids=[a.pk],
        allocation={a.pk: 7_500, b.pk: 2_500},
    )  # fmt: skip
    assert list(pledge.condition_required_candidates.all()) == [a]
    assert {x.candidate_id: x.weight_bps for x in pledge.allocations.all()} == {
        a.pk: 7_500,
        b.pk: 2_500,
    }


@pytest.mark.parametrize(
    "allocation",
    [{"a": 5_000}, {"a": 6_000, "b": 6_000}, {"a": 0, "b": 10_000}, {"stranger": 10_000}],
)
def test_bad_allocations_are_refused(open_slate, allocation):
    a, b = slate_candidates(open_slate)[:2]
    stranger = slate_candidates(make_open_slate())[0]
    ids = {"a": a.pk, "b": b.pk, "stranger": stranger.pk}
    with pytest.raises(PledgeError) as excinfo:
        intake.create_money_pledge(attestations=ATTESTED,
            supporter=UserFactory(), slate=open_slate, amount_cents=1000,
            allocation={ids[k]: v for k, v in allocation.items()},
        )  # fmt: skip
    assert excinfo.value.field == "allocation"
    assert not Pledge.objects.filter(slate=open_slate).exists()


@pytest.mark.parametrize("state", [SlateState.DRAFT, SlateState.LOCKED, SlateState.EXPIRED])
def test_pledging_to_a_closed_slate_is_refused(open_slate, state):
    Slate.objects.filter(pk=open_slate.pk).update(state=state)
    with pytest.raises(PledgeError) as excinfo:
        money(open_slate)
    assert excinfo.value.code == "slate_closed"
    with pytest.raises(PledgeError):
        volunteer(open_slate)
    with pytest.raises(PledgeError):
        intake.sign_on(supporter=UserFactory(), slate=open_slate)
    assert not Pledge.objects.exists()


def test_pledging_after_the_deadline_is_refused_before_the_job_runs(open_slate):
    Slate.objects.filter(pk=open_slate.pk).update(deadline=open_slate.deadline - timedelta(days=60))
    open_slate.refresh_from_db()
    with pytest.raises(PledgeError) as excinfo:
        money(open_slate)
    assert excinfo.value.code == "slate_closed"


def test_referral_must_come_from_an_endorsing_organization(open_slate):
    admin = UserFactory()
    org = slate_partners.create_partner_organization(name="Local 12", kind="union", admin=admin)
    with pytest.raises(PledgeError) as excinfo:
        money(open_slate, referred_by=org)
    assert excinfo.value.field == "referred_by"
    slate_partners.endorse_slate(organization=org, slate=open_slate, actor=admin)
    with pytest.raises(PledgeError):  # an endorsement counts once staff verify the organization
        money(open_slate, referred_by=org)
    slate_partners.verify_partner_organization(organization=org, actor=make_staff())
    pledge = money(open_slate, referred_by=org)
    assert pledge.referred_by == org
    assert (
        dict(slate_selectors.slate_breakdown(open_slate.pk, "partner"))[str(org.pk)].money_cents
        == 5_000
    )


def test_sign_on_twice_returns_the_first(open_slate):
    supporter = UserFactory()
    first = intake.sign_on(supporter=supporter, slate=open_slate)
    second = intake.sign_on(supporter=supporter, slate=open_slate)
    assert first.pk == second.pk
    assert slate_selectors.slate_counts(open_slate.pk).signon_count == 1


def test_idempotency_key_returns_the_first_pledge(open_slate):
    supporter = UserFactory()
    first = intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=supporter,
        slate=open_slate,
        amount_cents=2500,
        idempotency_key="k-1",
    )
    again = intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=supporter,
        slate=open_slate,
        amount_cents=2500,
        idempotency_key="k-1",
    )
    assert first.pk == again.pk
    assert Pledge.objects.count() == 1


def test_pending_card_pledges_do_not_count_until_committed(open_slate):
    supporter = UserFactory()
    pledge = intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=open_slate, amount_cents=2500
    )
    assert slate_selectors.slate_counts(open_slate.pk).money_pledged_cents == 0
    services.commit_money_pledge(pledge=pledge)
    counts = slate_selectors.slate_counts(open_slate.pk)
    assert (counts.money_pledged_cents, counts.money_pledge_count, counts.supporter_count) == (
        2500,
        1,
        1,
    )
    assert_totals_match_recount(open_slate)


def test_supporter_counted_once_across_pledges(open_slate):
    supporter = UserFactory()
    one = money(open_slate, supporter=supporter, amount=1000)
    volunteer(open_slate, supporter=supporter)
    intake.sign_on(supporter=supporter, slate=open_slate)
    assert slate_selectors.slate_counts(open_slate.pk).supporter_count == 1
    services.cancel_pledge(pledge=one, actor=supporter)
    assert slate_selectors.slate_counts(open_slate.pk).supporter_count == 1
    assert_totals_match_recount(open_slate)


def test_cancel_before_lock_updates_totals_and_history(open_slate):
    supporter = UserFactory()
    pledge = money(open_slate, supporter=supporter, amount=7_700, supporter_state="CA")
    services.cancel_pledge(pledge=pledge, actor=supporter, reason="changed my mind")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CANCELLED
    assert list(pledge.events.values_list("to_state", flat=True)) == [
        "pending_card", "committed", "cancelled",
    ]  # fmt: skip
    counts = slate_selectors.slate_counts(open_slate.pk)
    assert (counts.money_pledged_cents, counts.supporter_count) == (0, 0)
    assert slate_selectors.slate_breakdown(open_slate.pk, "state") == []
    assert_totals_match_recount(open_slate)


def test_only_the_supporter_cancels(open_slate):
    pledge = money(open_slate)
    with pytest.raises(PledgeError) as excinfo:
        services.cancel_pledge(pledge=pledge, actor=UserFactory())
    assert excinfo.value.code == "forbidden"
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.COMMITTED


def test_cancel_after_lock_is_refused(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=2, min_signatures=1)
    supporter = UserFactory()
    pledge = money(slate, supporter=supporter)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    with pytest.raises(PledgeError) as excinfo:
        services.cancel_pledge(pledge=pledge, actor=supporter)
    assert excinfo.value.code == "slate_closed"


def test_held_pledges_are_cancelled_through_escrow_only(open_slate):
    supporter = UserFactory()
    pledge = money(open_slate, supporter=supporter)
    services.transition_pledge(pledge=pledge, to_state=PledgeState.AUTHORIZED, reason="hold placed")
    with pytest.raises(PledgeError) as excinfo:
        services.cancel_pledge(pledge=pledge, actor=supporter)
    assert excinfo.value.code == "hold_must_be_released"


def test_money_rule_locks_when_pledges_reach_it(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=2, min_signatures=1, min_money_cents=10_000)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        money(slate, amount=6_000)
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        money(slate, amount=4_000)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER


def test_expiry_voids_every_pledge_and_then_the_slate(django_capture_on_commit_callbacks):
    slate = make_open_slate()
    money(slate)
    volunteer(slate)
    intake.sign_on(supporter=UserFactory(), slate=slate)
    intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=500
    )
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    slate.refresh_from_db()
    assert slate.state == SlateState.VOIDED
    assert set(Pledge.objects.filter(slate=slate).values_list("state", flat=True)) == {"voided"}
    assert slate_selectors.slate_counts(slate.pk).money_pledged_cents == 0
    assert_totals_match_recount(slate)


@override_settings(SLATE_VOID_CHUNK_SIZE=2)
def test_voiding_runs_in_chunks_until_done(django_capture_on_commit_callbacks):
    slate = make_open_slate()
    for _ in range(5):
        money(slate)
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    slate.refresh_from_db()
    assert slate.state == SlateState.VOIDED
    assert Pledge.objects.filter(slate=slate, state="voided").count() == 5


def test_a_held_pledge_keeps_an_expired_slate_from_voided_until_escrow_voids_it(
    django_capture_on_commit_callbacks,
):
    slate = make_open_slate()
    held = money(slate)
    services.transition_pledge(pledge=held, to_state=PledgeState.AUTHORIZED, reason="hold placed")
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    slate.refresh_from_db()
    assert slate.state == SlateState.EXPIRED
    held.refresh_from_db()
    assert held.state == PledgeState.AUTHORIZED


def test_a_pledge_that_moved_since_it_was_read_is_not_cancelled(open_slate):
    supporter = UserFactory()
    pledge = money(open_slate, supporter=supporter)
    stale_copy = Pledge.objects.get(pk=pledge.pk)
    # Escrow places a hold between the supporter's read and their cancel.
    services.transition_pledge(pledge=pledge, to_state=PledgeState.AUTHORIZED, reason="hold")
    with pytest.raises(PledgeError) as excinfo:
        services.transition_pledge(
            pledge=stale_copy, to_state=PledgeState.CANCELLED, reason="cancel",
            expected_states=[PledgeState.COMMITTED],
        )  # fmt: skip
    assert excinfo.value.code == "state_changed"
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.AUTHORIZED
