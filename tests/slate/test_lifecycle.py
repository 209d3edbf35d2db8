"""The slate lifecycle: every allowed and forbidden transition, publishing, locking, expiry."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from slate import deadlines, lifecycle, services
from slate.errors import SlateError
from slate.models import Slate, SlateTransition
from slate.states import SLATE_TRANSITIONS, SlateState
from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_draft_slate,
    make_open_slate,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db

ALL_PAIRS = [(a, b) for a in SlateState.values for b in SlateState.values]


def _force_state(slate: Slate, state: str) -> None:
    Slate.objects.filter(pk=slate.pk).update(state=state)


@pytest.mark.parametrize(("from_state", "to_state"), ALL_PAIRS)
def test_transition_table_is_enforced(from_state, to_state):
    slate = make_draft_slate()
    _force_state(slate, from_state)
    allowed = to_state in SLATE_TRANSITIONS[from_state]
    with transaction.atomic():
        locked = services.lock_slate(slate.pk)
        if allowed:
            transition = lifecycle.transition_slate(
                slate=locked, to_state=to_state, actor=None, reason="test"
            )
            assert transition.from_state == from_state
        else:
            with pytest.raises(SlateError) as excinfo:
                lifecycle.transition_slate(slate=locked, to_state=to_state, actor=None, reason="t")
            assert excinfo.value.code == "invalid_transition"
    slate.refresh_from_db()
    assert slate.state == (to_state if allowed else from_state)
    assert SlateTransition.objects.filter(slate=slate).count() == (1 if allowed else 0)


@pytest.mark.django_db(transaction=True)
def test_transition_outside_a_transaction_is_refused():
    slate = make_draft_slate()
    with pytest.raises(RuntimeError):
        lifecycle.transition_slate(slate=slate, to_state=SlateState.OPEN, actor=None, reason="x")


def test_open_slate_records_who_and_why(slate_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        slate = make_open_slate()
    transition = slate.transitions.get()
    assert (transition.from_state, transition.to_state) == ("draft", "open")
    assert transition.actor == slate.organizers.first()
    assert transition.reason == "published by organizer"
    assert transition.dispatched_at is not None
    assert slate_events == [("slate_opened", slate.pk)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"mission": "  "}, "mission"),
        ({"deadline": "past"}, "deadline"),
        ({"threshold_min_signatures": 0}, "threshold_min_signatures"),
        ({"threshold_min_signatures": 2.5}, "threshold_min_signatures"),
        ({"threshold_min_money_cents": -1}, "threshold_min_money_cents"),
        ({"threshold_min_volunteer_hours": -5}, "threshold_min_volunteer_hours"),
        ({"planks": [("", "no title")]}, "planks"),
    ],
)
def test_create_slate_rejects_bad_input_and_writes_nothing(kwargs, field):
    organizer = UserFactory()
    arguments = {
        "name": "A slate",
        "mission": "Why",
        "deadline": timezone.now() + timedelta(days=9),
        "threshold_min_signatures": 2,
        "created_by": organizer,
    }
    if kwargs.get("deadline") == "past":
        kwargs = {"deadline": timezone.now() - timedelta(minutes=1)}
    arguments.update(kwargs)
    with pytest.raises(SlateError) as excinfo:
        services.create_slate(**arguments)
    assert excinfo.value.field == field
    assert not Slate.objects.exists()


def test_publishing_needs_agreement_and_enough_candidates():
    slate = make_draft_slate(min_signatures=2)
    organizer = slate.organizers.first()
    with pytest.raises(SlateError) as excinfo:
        lifecycle.open_slate(slate=slate, actor=organizer)
    assert excinfo.value.code == "no_agreement"
    slate.refresh_from_db()
    assert slate.state == SlateState.DRAFT


def test_only_organizers_publish():
    slate = make_draft_slate()
    with pytest.raises(SlateError) as excinfo:
        lifecycle.open_slate(slate=slate, actor=UserFactory())
    assert excinfo.value.code == "forbidden"


def test_rule_cannot_change_once_open():
    slate = make_open_slate()
    with pytest.raises(SlateError) as excinfo:
        services.update_threshold_rule(
            slate=slate, actor=slate.organizers.first(), min_signatures=1
        )
    assert excinfo.value.code == "not_draft"
    slate.refresh_from_db()
    assert slate.threshold_min_signatures == 3


def test_threshold_met_locks_once_and_fires_one_event(
    slate_events, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=4, min_signatures=2)
    first, second, third, _ = slate_candidates(slate)
    with django_capture_on_commit_callbacks(execute=True):
        sign(first, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        sign(second, slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    assert slate.locked_at is not None
    # A third signature after the lock is refused, and re-evaluating changes nothing.
    from candidates.services import CandidateError

    with pytest.raises(CandidateError):
        sign(third, slate)
    assert lifecycle.evaluate_threshold(slate_id=slate.pk) is False
    assert slate_events.count(("slate_locked", slate.pk)) == 1
    assert slate.transitions.filter(to_state=SlateState.LOCKED).count() == 1


def test_required_candidate_must_sign_before_lock(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=4, min_signatures=2, required=1)
    required, a, b, _ = slate_candidates(slate)
    with django_capture_on_commit_callbacks(execute=True):
        sign(a, slate)
        sign(b, slate)
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    assert slate.required_unsigned_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        sign(required, slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER


def test_deadline_expires_an_open_slate_whose_rule_fails(
    slate_events, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=3, min_signatures=2)
    later = slate.deadline + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.expire_slate_if_overdue(slate_id=slate.pk, now=later) == SlateState.EXPIRED
    slate.refresh_from_db()
    # No pledges, so the void task finishes the slate at once.
    assert slate.state == SlateState.VOIDED
    assert ("slate_expired", slate.pk) in slate_events
    assert ("slate_voided", slate.pk) in slate_events


def test_deadline_job_locks_a_slate_whose_rule_held(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=3, min_signatures=1)
    (candidate, *_) = slate_candidates(slate)
    # Sign without running the on-commit evaluation: a lost message.
    sign(candidate, slate)
    later = slate.deadline + timedelta(seconds=1)
    assert lifecycle.expire_slate_if_overdue(slate_id=slate.pk, now=later) == SlateState.LOCKED


def test_deadline_job_leaves_slates_before_their_deadline_alone():
    slate = make_open_slate()
    assert lifecycle.expire_slate_if_overdue(slate_id=slate.pk) is None
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN


def test_extend_deadline_must_move_later_with_a_reason():
    slate = make_open_slate()
    organizer = slate.organizers.first()
    with pytest.raises(SlateError):
        deadlines.extend_deadline(
            slate=slate,
            new_deadline=slate.deadline - timedelta(days=1),
            actor=organizer,
            reason="x",
        )
    with pytest.raises(SlateError):
        deadlines.extend_deadline(
            slate=slate, new_deadline=slate.deadline + timedelta(days=1), actor=organizer, reason=""
        )
    new_deadline = slate.deadline + timedelta(days=7)
    deadlines.extend_deadline(
        slate=slate, new_deadline=new_deadline, actor=organizer, reason="Primary moved"
    )
    slate.refresh_from_db()
    assert slate.deadline == new_deadline
