"""Every write that changes a pledge. A pledge's state changes only in
``apply_state_change``, reached through ``transition_pledge`` (and pledge creation, in
``pledges.intake``), inside one transaction that also writes the pledge's history and its
slate's totals."""

from collections.abc import Collection

from django.db import connection, transaction
from django.utils import timezone

from candidates.services import refresh_candidate_facts
from slate import counters as slate_counters
from slate import lifecycle as slate_lifecycle
from slate import services as slate_services
from slate import tasks as slate_tasks
from slate.errors import SlateError
from slate.events import pledge_counted
from slate.models import Slate
from slate.queue import enqueue_named_on_commit, enqueue_on_commit
from slate.states import SlateState
from slate.text import clean_text
from slate.totals import Counts, breakdown_difference

from . import notifications
from .models import Pledge, PledgeEvent, SlateSupporter
from .selectors import recount_slate
from .states import CANCELLABLE_WITHOUT_HOLD, PledgeKind, PledgeState, pledge_transition_allowed
from .totals import PledgeFigures, pledge_breakdown, pledge_counts
from .validation import PledgeError

__all__ = ["PledgeError"]  # re-exported: callers catch pledges.services.PledgeError


# --- The one state-change function ------------------------------------------------------------


def lock_slate_shared(slate: Slate) -> Slate:
    """The slate's shared lock (``slate.services.lock_slate_shared``), refusing as a
    PledgeError."""
    try:
        slate = slate_services.lock_slate_shared(slate.pk)
    except SlateError as exc:
        raise PledgeError(exc.code, exc.message, field=exc.field) from None
    return slate


def apply_state_change(pledge: Pledge, before: PledgeFigures | None, *, actor, reason: str) -> None:
    """Record the change from ``before`` to the pledge as it is now: its history row, its
    slate's totals, the supporter count; and ask for a threshold evaluation after commit.
    The caller holds the slate's shared lock and the pledge's row lock. Only this module's
    transitions and ``pledges.intake``'s pledge creation call it."""
    after = PledgeFigures.of(pledge)
    PledgeEvent.objects.create(
        pledge=pledge,
        from_state=before.state if before else "",
        to_state=pledge.state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason[:500],
    )
    counts = pledge_counts(after) - pledge_counts(before)
    was_live, is_live_now = bool(before and before.live), after.live
    if was_live != is_live_now:
        step = 1 if is_live_now else -1
        now = _add_live_pledge(
            slate_id=pledge.slate_id, supporter_id=pledge.supporter_id, step=step
        )
        if (now - step == 0) != (now == 0):
            counts = counts + Counts(supporter_count=step)
    breakdown = breakdown_difference(pledge_breakdown(after), pledge_breakdown(before))
    if not counts.is_zero() or breakdown:
        slate_counters.apply_counts_delta(
            slate_id=pledge.slate_id, counts=counts, breakdown=breakdown
        )
    if is_live_now and not was_live:
        pledge_counted.send(sender=Pledge, pledge_id=pledge.pk, slate_id=pledge.slate_id)
    slate = pledge.slate
    rule_uses_totals = slate.threshold_min_money_cents or slate.threshold_min_volunteer_hours
    if slate.state == SlateState.OPEN and rule_uses_totals and was_live != is_live_now:
        enqueue_on_commit(slate_tasks.evaluate_threshold, pledge.slate_id)
    notice = notifications.record_notice(pledge, before.state if before else "")
    if notice is not None:
        enqueue_named_on_commit("pledges.tasks.notify_supporter", pledge.pk, notice)


def _add_live_pledge(*, slate_id: int, supporter_id: int, step: int) -> int:
    """Add ``step`` (+1 or -1) to the supporter's live pledges on the slate, creating their row
    on the first; return the new count. One statement that takes the row's lock, so two pledges
    of one supporter changing at once count one after the other. (A pledge stops being live
    only after it was counted, so the row exists then; the upsert is for the +1, whose
    proposed row passes the count's CHECK.)"""
    with connection.cursor() as cursor:
        if step > 0:
            cursor.execute(
                "INSERT INTO pledges_slatesupporter (slate_id, supporter_id, live_pledge_count) "
                "VALUES (%s, %s, %s) ON CONFLICT (slate_id, supporter_id) DO UPDATE "
                "SET live_pledge_count = pledges_slatesupporter.live_pledge_count "
                "+ EXCLUDED.live_pledge_count RETURNING live_pledge_count",
                [slate_id, supporter_id, step],
            )
        else:
            cursor.execute(
                "UPDATE pledges_slatesupporter SET live_pledge_count = live_pledge_count + %s "
                "WHERE slate_id = %s AND supporter_id = %s RETURNING live_pledge_count",
                [step, slate_id, supporter_id],
            )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"supporter {supporter_id} has no live pledge on slate {slate_id}")
    return row[0]


@transaction.atomic
def transition_pledge(
    *,
    pledge: Pledge,
    to_state: str,
    actor=None,
    reason: str,
    captured_cents: int | None = None,
    refunded_cents: int | None = None,
    expected_states: Collection[str] | None = None,
) -> Pledge:
    """Move a pledge to ``to_state`` if the state table allows it.

    ``expected_states`` guards a caller that decided on an earlier read: if the pledge moved
    meanwhile (say escrow placed a hold while the supporter pressed cancel), it is refused.

    Takes the slate's shared lock, then the pledge's row lock (always in that order), so that
    it cannot interleave with the slate locking or expiring. ``captured_cents`` and
    ``refunded_cents`` are for the escrow app, which records what Stripe actually moved.
    """
    lock_slate_shared(pledge.slate)
    # of=("self",): lock only the pledge row; the join must not turn the slate's shared
    # lock into an exclusive one (that deadlocks concurrent pledges).
    locked = (
        Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge.pk)
    )
    return transition_locked_pledge(
        pledge=locked, to_state=to_state, actor=actor, reason=reason,
        captured_cents=captured_cents, refunded_cents=refunded_cents,
        expected_states=expected_states,
    )  # fmt: skip


def transition_locked_pledge(
    *,
    pledge: Pledge,
    to_state: str,
    actor=None,
    reason: str,
    captured_cents: int | None = None,
    refunded_cents: int | None = None,
    expected_states: Collection[str] | None = None,
) -> Pledge:
    """``transition_pledge`` for a caller that already holds, in its open transaction, the
    slate's shared lock and the pledge's row lock, and passes that locked row (read with its
    slate): escrow, which locks both before every money step, saves locking them again for
    each pledge a release settles. Refusals come before any write."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition_locked_pledge needs the caller's locking transaction")
    if not pledge_transition_allowed(pledge.kind, pledge.state, to_state):
        raise PledgeError(
            "invalid_transition",
            f"A {pledge.get_kind_display().lower()} pledge cannot go from "
            f"{pledge.state} to {to_state}.",
            field="state",
        )
    if expected_states is not None and pledge.state not in expected_states:
        raise PledgeError(
            "state_changed", f"The pledge changed meanwhile (it is now {pledge.state}); try again."
        )
    captured = pledge.captured_cents if captured_cents is None else captured_cents
    refunded = pledge.refunded_cents if refunded_cents is None else refunded_cents
    if refunded > captured:
        raise PledgeError("invalid_refund", "Cannot refund more than was captured.")
    before = PledgeFigures.of(pledge)
    pledge.state = to_state
    pledge.state_changed_at = timezone.now()
    pledge.captured_cents, pledge.refunded_cents = captured, refunded
    pledge.save(
        update_fields=[
            "state",
            "state_changed_at",
            "captured_cents",
            "refunded_cents",
            "updated_at",
        ]
    )
    apply_state_change(pledge, before, actor=actor, reason=reason)
    return pledge


# --- Changing pledges -------------------------------------------------------------------------


@transaction.atomic
def commit_money_pledge(*, pledge: Pledge, reason: str = "card saved") -> Pledge:
    """``pending_card -> committed``: called by escrow when Stripe confirms the saved card.
    Refused once the slate's deadline has passed: only what was committed before it counts
    toward the threshold (the deadline job may not have run yet). Checked under the slate's
    shared lock, which the deadline job's lock waits for."""
    lock_slate_shared(pledge.slate)
    # The slate's shared lock is held: lock the pledge and change it (transition_pledge would
    # take the slate's lock a second time).
    locked = (
        Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge.pk)
    )
    return commit_locked_money_pledge(pledge=locked, reason=reason)


def commit_locked_money_pledge(*, pledge: Pledge, reason: str = "card saved") -> Pledge:
    """``commit_money_pledge`` for a caller that already holds, in its open transaction, the
    slate's shared lock and the pledge's row lock, and passes that locked row read with its
    slate (escrow, when the card is saved): the same refusal, no lock taken twice."""
    if pledge.slate.deadline <= timezone.now():
        raise PledgeError(
            "deadline_passed",
            "The slate's deadline passed before this card was saved; the pledge no longer "
            "counts and nothing will be charged.",
            field="slate",
        )
    return transition_locked_pledge(pledge=pledge, to_state=PledgeState.COMMITTED, reason=reason)


@transaction.atomic
def cancel_pledge(*, pledge: Pledge, actor, reason: str = "") -> Pledge:
    """The supporter (or staff) cancels before the lock."""
    if not actor.is_authenticated or (actor.pk != pledge.supporter_id and not actor.is_staff):
        raise PledgeError("forbidden", "You can cancel only your own pledges.")
    slate = lock_slate_shared(pledge.slate)
    if slate.state != SlateState.OPEN:
        raise PledgeError(
            "slate_closed",
            "The slate has closed; pledges can no longer be cancelled.",
            field="slate",
        )
    if slate.deadline <= timezone.now():
        # The deadline job decides from the pledges as they stood at the deadline.
        raise PledgeError(
            "deadline_passed",
            "The slate's deadline has passed; pledges can no longer be cancelled.",
            field="slate",
        )
    current = Pledge.objects.get(pk=pledge.pk)
    if current.state not in CANCELLABLE_WITHOUT_HOLD and current.kind == PledgeKind.MONEY:
        if current.state in (PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION):
            raise PledgeError(
                "hold_must_be_released",
                "This pledge holds a card authorization; cancel it through escrow.",
            )
        raise PledgeError("not_cancellable", f"A {current.state} pledge cannot be cancelled.")
    return transition_pledge(
        pledge=current,
        to_state=PledgeState.CANCELLED,
        actor=actor,
        reason=clean_text(reason, field="reason", error=PledgeError, max_length=500)
        or "cancelled by the supporter",
        expected_states=CANCELLABLE_WITHOUT_HOLD if current.kind == PledgeKind.MONEY else None,
    )


# States the pledges app voids itself when a slate expires. Pledges holding a Stripe
# authorization are the escrow app's to void, since the hold must be released first.
VOIDABLE_WITHOUT_HOLD = (PledgeState.PENDING_CARD, PledgeState.COMMITTED)


def void_pledges_of_expired_slate(*, slate_id: int, chunk_size: int) -> int:
    """Void up to ``chunk_size`` live pledges of an expired slate; returns how many."""
    slate = Slate.objects.get(pk=slate_id)
    if slate.state != SlateState.EXPIRED:
        return 0
    ids = list(
        Pledge.objects.filter(slate_id=slate_id, state__in=VOIDABLE_WITHOUT_HOLD)
        .order_by("id")
        .values_list("id", flat=True)[:chunk_size]
    )
    voided = 0
    for pledge_id in ids:
        pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
        try:
            transition_pledge(
                pledge=pledge,
                to_state=PledgeState.VOIDED,
                reason="slate expired before its threshold",
            )
            voided += 1
        except PledgeError:
            # Changed under us (cancelled a moment ago): nothing left to void.
            continue
    return voided


def finish_voiding_if_done(*, slate_id: int) -> bool:
    """``expired -> voided`` once no pledge of the slate is still live or unsettled."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        if slate.state != SlateState.EXPIRED:
            return False
        unsettled = Pledge.objects.filter(slate_id=slate_id).exclude(
            state__in=(
                PledgeState.CANCELLED,
                PledgeState.VOIDED,
                PledgeState.FAILED,
                PledgeState.REFUNDED,
            )
        )
        if unsettled.exists():
            return False
        slate_lifecycle.transition_slate(
            slate=slate, to_state=SlateState.VOIDED, actor=None, reason="every pledge voided"
        )
    return True


def repair_totals(*, slate_id: int) -> None:
    """Rewrite a slate's totals, its supporters' live-pledge counts and its candidate facts
    from a recount, holding its exclusive lock so no pledge or signature changes in between."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        recount = recount_slate(slate_id)
        slate_counters.replace_counts(
            slate_id=slate_id, counts=recount.counts, breakdown=recount.breakdown
        )
        SlateSupporter.objects.filter(slate_id=slate_id).delete()
        SlateSupporter.objects.bulk_create(
            SlateSupporter(slate_id=slate_id, supporter_id=supporter_id, live_pledge_count=count)
            for supporter_id, count in sorted(recount.live_pledges_by_supporter.items())
        )
        refresh_candidate_facts(slate)


@transaction.atomic
def record_refund(*, pledge: Pledge, refunded_cents: int, actor=None, reason: str) -> Pledge:
    """Record how much of a captured pledge has been refunded in total. A full refund moves
    it to ``refunded``; a partial one keeps its state and changes its totals and history."""
    locked = (
        Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge.pk)
    )
    if not 0 <= refunded_cents <= locked.captured_cents:
        raise PledgeError("invalid_refund", "Cannot refund more than was captured.")
    if refunded_cents == locked.captured_cents and locked.state != PledgeState.REFUNDED:
        return transition_pledge(
            pledge=locked, to_state=PledgeState.REFUNDED, actor=actor, reason=reason,
            refunded_cents=refunded_cents,
        )  # fmt: skip
    before = PledgeFigures.of(locked)
    locked.refunded_cents = refunded_cents
    locked.save(update_fields=["refunded_cents", "updated_at"])
    apply_state_change(locked, before, actor=actor, reason=reason)
    return locked
