"""Operator commands and the sweepers that finish work a crash left behind."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.selectors import totals_drift
from slate import tasks
from slate.models import Slate, SlateCounterShard, SlateTransition
from slate.states import SlateState
from tests.factories import LOCKED_OR_LATER, UserFactory, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def _pledge(slate, amount):
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=UserFactory(),
        slate=slate,
        amount_cents=amount,
        supporter_state="OH",
    )
    return pledge_services.commit_money_pledge(pledge=pledge)


def test_recount_reports_no_drift_on_honest_totals(capsys):
    slate = make_open_slate()
    _pledge(slate, 1_000)
    call_command("recount_totals")
    assert f"{slate.slug}: ok" in capsys.readouterr().out


def test_recount_finds_and_repairs_drift(capsys):
    slate = make_open_slate()
    _pledge(slate, 1_000)
    _pledge(slate, 2_500)
    SlateCounterShard.objects.filter(slate=slate, shard=3).update(
        money_pledged_cents=F("money_pledged_cents") + 999
    )
    Slate.objects.filter(pk=slate.pk).update(signed_candidate_count=4)
    with pytest.raises(CommandError, match="drifted"):
        call_command("recount_totals", slate=slate.slug)
    output = capsys.readouterr().out
    assert "money_pledged_cents: maintained 4499, recount 3500" in output
    assert "signed_candidate_count: maintained 4, recount 0" in output
    call_command("recount_totals", slate=slate.slug, fix=True)
    assert "repaired: ok" in capsys.readouterr().out
    assert totals_drift(slate.pk).clean


def test_recount_of_an_unknown_slate_is_a_clear_error():
    with pytest.raises(CommandError, match="No slate with slug 'nope'"):
        call_command("recount_totals", slate="nope")


def test_sweeper_dispatches_an_event_lost_between_commit_and_dispatch(slate_events):
    slate = make_open_slate(candidates=2, min_signatures=1)
    # Sign and evaluate without running on-commit work: as if the worker died right after
    # the lock committed, before the event was dispatched.
    sign(slate_candidates(slate)[0], slate)
    from slate import lifecycle

    assert lifecycle.evaluate_threshold(slate_id=slate.pk) is True
    transition = SlateTransition.objects.get(slate=slate, to_state=SlateState.LOCKED)
    assert transition.dispatched_at is None
    assert slate_events == []
    # Too fresh: the on-commit dispatch may still be on its way.
    assert tasks.sweep_undispatched_transitions() == 0
    SlateTransition.objects.filter(pk=transition.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert tasks.sweep_undispatched_transitions() >= 1
    assert tasks.sweep_undispatched_transitions() == 0
    assert slate_events.count(("slate_locked", slate.pk)) == 1


def test_a_failing_receiver_leaves_the_event_for_the_sweeper(slate_events):
    from slate.events import slate_locked

    def broken_receiver(sender, **kwargs):
        raise RuntimeError("receiver crashed")

    slate = make_open_slate(candidates=2, min_signatures=1)
    sign(slate_candidates(slate)[0], slate)
    from slate import lifecycle

    lifecycle.evaluate_threshold(slate_id=slate.pk)
    transition = SlateTransition.objects.get(slate=slate, to_state=SlateState.LOCKED)
    slate_locked.connect(broken_receiver, dispatch_uid="broken")
    try:
        with pytest.raises(RuntimeError):
            lifecycle.dispatch_transition(transition_id=transition.pk)
    finally:
        slate_locked.disconnect(dispatch_uid="broken")
    transition.refresh_from_db()
    assert transition.dispatched_at is None
    assert lifecycle.dispatch_transition(transition_id=transition.pk) is True


def test_beat_evaluation_locks_a_slate_whose_evaluation_message_was_lost():
    slate = make_open_slate(candidates=2, min_signatures=1)
    sign(slate_candidates(slate)[0], slate)  # on-commit evaluation never ran
    slate.refresh_from_db()
    assert slate.state == SlateState.OPEN
    assert tasks.evaluate_open_slates() == 1
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER


def test_beat_expiry_handles_only_overdue_slates(django_capture_on_commit_callbacks):
    overdue = make_open_slate()
    current = make_open_slate()
    Slate.objects.filter(pk=overdue.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_overdue_slates() == 1
    overdue.refresh_from_db()
    current.refresh_from_db()
    assert overdue.state == SlateState.VOIDED
    assert current.state == SlateState.OPEN


@override_settings(SLATE_VOID_CHUNK_SIZE=1)
def test_sweeper_restarts_voiding_of_an_expired_slate(django_capture_on_commit_callbacks):
    from pledges import tasks as pledge_tasks

    slate = make_open_slate()
    _pledge(slate, 1_000)
    from slate import lifecycle

    # Expire without the on-commit void task: a lost message.
    lifecycle.expire_slate_if_overdue(slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1))
    slate.refresh_from_db()
    assert slate.state == SlateState.EXPIRED
    with django_capture_on_commit_callbacks(execute=True):
        pledge_tasks.sweep_expired_slates()
    slate.refresh_from_db()
    assert slate.state == SlateState.VOIDED


def test_evaluate_thresholds_command_reports_what_is_missing(capsys):
    slate = make_open_slate(candidates=3, min_signatures=2)
    call_command("evaluate_thresholds")
    assert f"{slate.slug}: 2 more candidate signature(s) needed" in capsys.readouterr().out


def test_raising_the_shard_count_after_a_slate_exists_loses_nothing():
    with override_settings(SLATE_COUNTER_SHARDS=1):
        slate = make_open_slate()
    with override_settings(SLATE_COUNTER_SHARDS=8):
        for amount in range(100, 2_100, 100):
            _pledge(slate, amount)
    assert totals_drift(slate.pk).clean
    assert SlateCounterShard.objects.filter(slate=slate).count() > 1


def test_repair_also_rebuilds_supporter_counts_so_drift_stays_away():
    from pledges.models import Pledge

    slate = make_open_slate()
    supporter = UserFactory()
    # A row written behind the services' back (an import, a data fix).
    Pledge.objects.create(
        supporter=supporter, slate=slate, kind="money", state="committed", amount_cents=700
    )
    assert not totals_drift(slate.pk).clean
    call_command("recount_totals", slate=slate.slug, fix=True)
    assert totals_drift(slate.pk).clean
    _pledge_for = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=300
    )
    pledge_services.commit_money_pledge(pledge=_pledge_for)
    drift = totals_drift(slate.pk)
    assert drift.clean, drift.differences
