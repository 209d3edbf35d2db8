"""The money flow against localstripe over HTTP: card intake, holds, release at the lock,
conditions, cancels, expiry, needs-action and its grace period — with the ledger checked."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from escrow import cards, errors, needs_action, voiding
from escrow import holds as escrow_holds
from escrow.models import CardSetup, LedgerEntry, Payment, Payout
from escrow.selectors import candidate_payable_cents, ledger_problems
from pledges.models import Pledge
from pledges.states import PledgeState
from slate import lifecycle as slate_lifecycle
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import DECLINED, NEEDS_AUTH_ALWAYS, pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


def lock(slate, capture_callbacks):
    """Sign enough candidates; the on-commit evaluation locks and the release runs eagerly."""
    with capture_callbacks(execute=True):
        for candidate in slate_candidates(slate)[: slate.threshold_min_signatures]:
            sign(candidate, slate)
    slate.refresh_from_db()
    return slate


def test_saved_card_commits_the_pledge_once(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    assert pledge.state == PledgeState.COMMITTED
    setup = CardSetup.objects.get(pledge=pledge)
    assert setup.status == "succeeded" and setup.payment_method_id
    # The webhook or a second return from Stripe.js changes nothing.
    cards.confirm_card_setup(setup_intent_id=setup.setup_intent_id)
    assert pledge.events.filter(to_state=PledgeState.COMMITTED).count() == 1


def test_a_declined_card_leaves_the_pledge_waiting_for_a_card(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate, card=DECLINED)
    assert pledge.state == PledgeState.PENDING_CARD
    assert CardSetup.objects.get(pledge=pledge).status == "pending"


def test_hold_authorizes_and_posts_balanced_hold_entries(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate, amount_cents=7_500)
    payment = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    pledge.refresh_from_db()
    assert payment.status == Payment.Status.REQUIRES_CAPTURE
    assert payment.expires_at > timezone.now()
    assert pledge.state == PledgeState.AUTHORIZED
    intent = localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")
    assert intent["status"] == "requires_capture"
    assert intent["amount"] == 7_500
    assert ledger_problems(slate.pk) == []
    # Asking again places no second hold.
    again = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    assert again.pk == payment.pk
    assert len(localstripe.payment_intents_for(pledge_id=pledge.pk)) == 1


def test_release_captures_every_pledge_once_and_pays_candidates(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=4, min_signatures=3)
    held = [pledge_with_card(slate, amount_cents=1_000 * (i + 1)) for i in range(4)]
    for pledge in held:
        escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    unheld = [pledge_with_card(slate, amount_cents=2_345) for _ in range(3)]
    slate = lock(slate, django_capture_on_commit_callbacks)
    assert slate.state == SlateState.RELEASED
    for pledge in held + unheld:
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.CAPTURED
        assert pledge.captured_cents == pledge.amount_cents
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    total = sum(p.amount_cents for p in held + unheld)
    signed = slate_candidates(slate)[:3]
    paid = sum(p.amount_cents for p in Payout.objects.filter(slate=slate))
    assert paid == total
    assert {p.candidate_id for p in Payout.objects.filter(slate=slate)} == {c.pk for c in signed}
    assert all(candidate_payable_cents(c.pk, slate.pk) == 0 for c in signed)
    assert ledger_problems() == []


def test_allocation_follows_the_supporters_choice(localstripe, django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=3, min_signatures=2)
    first, second, _ = slate_candidates(slate)
    pledge_with_card(slate, amount_cents=1_001, allocation={first.pk: 7_000, second.pk: 3_000})
    lock(slate, django_capture_on_commit_callbacks)
    by_candidate = {p.candidate_id: p.amount_cents for p in Payout.objects.filter(slate=slate)}
    assert by_candidate == {first.pk: 701, second.pk: 300}


def test_unmet_conditions_void_the_pledge_and_release_its_hold(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=4, min_signatures=2)
    last = slate_candidates(slate)[-1]
    wants_last = pledge_with_card(slate, condition_candidate_ids=[last.pk])
    wants_three = pledge_with_card(slate, condition_min_signatures=3)
    payment = escrow_holds.authorize_pledge(pledge_id=wants_last.pk)
    lock(slate, django_capture_on_commit_callbacks)
    for pledge in (wants_last, wants_three):
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.VOIDED
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
    assert localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")["status"] == (
        "canceled"
    )
    assert ledger_problems() == []


def test_supporter_cancel_releases_the_hold(localstripe):
    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    payment = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CANCELLED
    assert localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")["status"] == (
        "canceled"
    )
    assert LedgerEntry.objects.filter(pledge=pledge, account="supporter_holds").count() == 2
    assert ledger_problems() == []


def test_cancel_after_lock_is_refused_and_the_pledge_is_captured(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate)
    escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    lock(slate, django_capture_on_commit_callbacks)
    with pytest.raises(errors.EscrowError):
        voiding.cancel_pledge(pledge=pledge, actor=pledge.supporter)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED


def test_expiry_cancels_every_hold_and_captures_nothing(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate()
    pledges = [pledge_with_card(slate) for _ in range(3)]
    for pledge in pledges[:2]:
        escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    slate.refresh_from_db()
    assert slate.state == SlateState.VOIDED
    for pledge in pledges:
        pledge.refresh_from_db()
        assert pledge.state == PledgeState.VOIDED
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
    for payment in Payment.objects.filter(pledge__in=pledges):
        assert localstripe.get(f"/v1/payment_intents/{payment.payment_intent_id}")["status"] == (
            "canceled"
        )
    assert ledger_problems() == []


def test_capture_run_twice_captures_once(localstripe, monkeypatch):
    from escrow import payments

    slate = make_open_slate(candidates=3, min_signatures=3)
    sign(slate_candidates(slate)[0], slate)
    pledge = pledge_with_card(slate)
    payment = escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)

    # A worker killed after Stripe captured but before we recorded it: the recording step
    # never runs, so Stripe holds the capture while our payment still says "capturing".
    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(payments, "record_intent", killed)
        with pytest.raises(Killed):
            escrow_holds.capture_payment(payment_id=payment.pk)
    assert localstripe.count_captures(payment.payment_intent_id) == 1
    payment.refresh_from_db()
    pledge.refresh_from_db()
    assert (payment.status, pledge.state) == (Payment.Status.CAPTURING, PledgeState.AUTHORIZED)

    # The retry asks Stripe again (same idempotency key), records it, and a second retry
    # changes nothing.
    assert escrow_holds.capture_payment(payment_id=payment.pk).status == "succeeded"
    assert escrow_holds.capture_payment(payment_id=payment.pk).status == "succeeded"
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert localstripe.count_captures(payment.payment_intent_id) == 1
    assert ledger_problems(slate.pk) == []


def test_card_needing_authentication_goes_to_needs_action_then_fails_after_grace(
    localstripe, django_capture_on_commit_callbacks
):
    slate = make_open_slate(candidates=2, min_signatures=1)
    pledge = pledge_with_card(slate, card=NEEDS_AUTH_ALWAYS)
    lock(slate, django_capture_on_commit_callbacks)
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.NEEDS_ACTION
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASING  # waiting for the supporter
    later = timezone.now() + timedelta(days=8)
    assert needs_action.fail_overdue_needs_action(now=later) == 1
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.FAILED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 0
    assert ledger_problems() == []


@override_settings(SLATE_RELEASE_CHUNK_SIZE=3)
def test_release_walks_pledges_in_chunks(
    localstripe, django_capture_on_commit_callbacks, monkeypatch
):
    from escrow import tasks

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledges = [pledge_with_card(slate, amount_cents=500 + i) for i in range(8)]
    chunks = []
    send_chunk = tasks.release_chunk.delay
    monkeypatch.setattr(
        tasks.release_chunk, "delay", lambda *args: (chunks.append(args), send_chunk(*args))
    )
    slate = lock(slate, django_capture_on_commit_callbacks)
    ids = sorted(p.pk for p in pledges)
    # Three chunks of at most three pledges, each its own task, covering every pledge once.
    assert chunks == [(slate.pk, 0, ids[2]), (slate.pk, ids[2], ids[5]), (slate.pk, ids[5], ids[7])]
    assert slate.state == SlateState.RELEASED
    assert set(
        Pledge.objects.filter(pk__in=[p.pk for p in pledges]).values_list("state", flat=True)
    ) == {PledgeState.CAPTURED}


def test_supporters_are_told_once_when_charged(localstripe, django_capture_on_commit_callbacks):
    from django.core import mail

    from escrow.notifications import tell_supporters

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledges = [pledge_with_card(slate, amount_cents=2_000) for _ in range(2)]
    mail.outbox.clear()
    lock(slate, django_capture_on_commit_callbacks)
    charged = [m for m in mail.outbox if "was charged" in m.subject]
    assert sorted(m.to[0] for m in charged) == sorted(p.supporter.email for p in pledges)
    assert "$20" in charged[0].body
    assert tell_supporters(slate_id=slate.pk, kind="charged") == 0


def test_supporters_are_told_nothing_was_charged_at_expiry(
    localstripe, django_capture_on_commit_callbacks
):
    from django.core import mail

    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    escrow_holds.authorize_pledge(pledge_id=pledge.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    voided = [m for m in mail.outbox if "nothing was charged" in m.subject]
    assert [m.to for m in voided] == [[pledge.supporter.email]]


def test_a_mail_server_error_mid_way_leaves_the_rest_to_the_retry_and_the_sweeper(
    localstripe, django_capture_on_commit_callbacks, monkeypatch
):
    """The mail server fails on the second supporter: the first is told once, the second's
    notice is not marked, and a later run (the task's retry or the sweeper) tells the rest."""
    from django.core import mail

    from escrow import notifications, sweeper
    from slate import mail as slate_mail

    slate = make_open_slate(candidates=2, min_signatures=1)
    pledges = [pledge_with_card(slate, amount_cents=1_000 + i) for i in range(3)]
    real_deliver = slate_mail.deliver
    sends = []

    def flaky_deliver(message):
        sends.append(message.to)
        if len(sends) == 2:
            raise ConnectionResetError("mail server went away")
        return real_deliver(message)

    monkeypatch.setattr("escrow.tasks.tell_supporters.delay", lambda *args: None)  # "lost"
    lock(slate, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    monkeypatch.setattr(slate_mail, "deliver", flaky_deliver)
    with pytest.raises(ConnectionResetError):
        notifications.tell_supporters(slate_id=slate.pk, kind="charged")
    assert len([m for m in mail.outbox if "was charged" in m.subject]) == 1
    monkeypatch.undo()

    assert sweeper.sweep().get("supporter_notices", 0) == 0  # too recent to be stranded
    later = timezone.now() + timedelta(hours=1)
    assert sweeper.sweep(now=later)["supporter_notices"] == 1
    charged = [m.to[0] for m in mail.outbox if "was charged" in m.subject]
    assert sorted(charged) == sorted(p.supporter.email for p in pledges)
    assert sweeper.sweep(now=later).get("supporter_notices", 0) == 0  # everyone told


def test_the_sweeper_tells_supporters_of_a_voided_slate_when_the_task_was_lost(
    localstripe, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core import mail

    from escrow import sweeper

    slate = make_open_slate()
    pledge = pledge_with_card(slate)
    monkeypatch.setattr("escrow.tasks.tell_supporters.delay", lambda *args: None)  # "lost"
    with django_capture_on_commit_callbacks(execute=True):
        slate_lifecycle.expire_slate_if_overdue(
            slate_id=slate.pk, now=slate.deadline + timedelta(seconds=1)
        )
    assert Slate.objects.get(pk=slate.pk).state == SlateState.VOIDED
    mail.outbox.clear()
    monkeypatch.undo()
    assert sweeper.sweep(now=timezone.now() + timedelta(hours=1))["supporter_notices"] == 1
    voided = [m for m in mail.outbox if "nothing was charged" in m.subject]
    assert [m.to for m in voided] == [[pledge.supporter.email]]
