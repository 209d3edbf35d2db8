"""Reads about money: ledger balances, the invariants ``check_ledger`` verifies, and the ids
each beat job and release step is due to work on."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate.selectors import slate_counts
from slate.states import SlateState

from .allocation import allocate
from .models import (
    CardSetup,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
    Refund,
)
from .states import PAYOUT_RESERVED, PAYOUT_SENT

A = LedgerAccount


def balance(account: str, **filters) -> int:
    """Debits minus credits of one account, optionally for a slate, candidate or pledge."""
    total = LedgerEntry.objects.filter(account=account, **filters).aggregate(s=Sum("amount_cents"))
    return total["s"] or 0


def candidate_payable_cents(candidate_id: int, slate_id: int | None = None) -> int:
    """What the platform owes a candidate (payable is a credit balance, hence the sign)."""
    filters = {"candidate_id": candidate_id}
    if slate_id is not None:
        filters["slate_id"] = slate_id
    return -balance(A.CANDIDATE_PAYABLE, **filters)


def refund_shares(payment: Payment, amount_cents: int) -> dict[int, int]:
    """How a refund of ``amount_cents`` splits among candidates: like the capture was split."""
    captured = dict(
        LedgerEntry.objects.filter(
            transaction__key=payment.idempotency_key("capture"), account=A.CANDIDATE_PAYABLE
        )
        .values_list("candidate_id")
        .annotate(total=Sum("amount_cents"))
    )
    weights = {cid: -total for cid, total in captured.items()}
    return allocate(amount_cents, sorted(weights), weights)


def candidate_unreserved_cents(
    candidate_id: int, slate_id: int, *, excluding_payout_id: int | None = None
) -> int:
    """What a candidate is owed that nothing else has claimed yet: the posted payable balance,
    less money reserved in payouts not yet posted (pending, sending, failed) and less the
    candidate's share of refunds asked of Stripe but not yet posted. A new payout may send
    no more, a refund may take no more. The caller holds the slate's exclusive lock, so
    neither can change under it."""
    reserved = (
        Payout.objects.filter(
            slate_id=slate_id, candidate_id=candidate_id, status__in=PAYOUT_RESERVED
        )
        .exclude(pk=excluding_payout_id)
        .aggregate(s=Sum("amount_cents"))["s"]
        or 0
    )
    refunding = sum(
        refund_shares(refund.payment, refund.amount_cents).get(candidate_id, 0)
        for refund in Refund.objects.filter(
            status=Refund.Status.CREATING, payment__pledge__slate_id=slate_id
        ).select_related("payment")
    )
    return candidate_payable_cents(candidate_id, slate_id) - reserved - refunding


def candidate_payouts(candidate_id: int):
    """A candidate's payouts, newest first, for their own page."""
    return (
        Payout.objects.filter(candidate_id=candidate_id)
        .exclude(status=Payout.Status.CANCELED)
        .select_related("slate")
        .order_by("-created_at", "-id")
    )


def _payments_off_the_books(entries, pledges, account: str, field: str, what: str) -> list[str]:
    """Payments whose ``field`` (cents Stripe reported) differs from ``account``'s balance."""
    booked = dict(
        entries.filter(account=account)
        .values("transaction__payment_id")
        .annotate(total=Sum("amount_cents"))
        .exclude(total=0)
        .values_list("transaction__payment_id", "total")
    )
    reported = dict(
        Payment.objects.filter(pledge__in=pledges, **{f"{field}__gt": 0}).values_list("pk", field)
    )
    return [
        f"payment {payment_id}: {what} {reported.get(payment_id, 0)} "
        f"but {booked.get(payment_id, 0)} booked"
        for payment_id in sorted(booked.keys() | reported.keys())
        if booked.get(payment_id, 0) != reported.get(payment_id, 0)
    ]


def ledger_problems(slate_id: int | None = None) -> list[str]:
    """Every broken invariant, as a sentence. Empty means the books are sound."""
    problems: list[str] = []
    entries = LedgerEntry.objects.all()
    transactions = LedgerTransaction.objects.all()
    pledges = Pledge.objects.filter(kind="money")
    if slate_id is not None:
        entries = entries.filter(slate_id=slate_id)
        transactions = transactions.filter(slate_id=slate_id)
        pledges = pledges.filter(slate_id=slate_id)

    unbalanced = (
        transactions.annotate(total=Sum("entries__amount_cents"))
        .exclude(total=0)
        .values_list("key", "total")
    )
    problems += [f"transaction {key} sums to {total}, not 0" for key, total in unbalanced]

    # Per pledge: what we captured (less refunds) is exactly what it credited to candidates.
    payable_by_pledge = dict(
        entries.filter(account=A.CANDIDATE_PAYABLE, pledge__isnull=False)
        .values("pledge_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("pledge_id", "total")
    )
    for pledge_id, captured, refunded in pledges.filter(
        Q(captured_cents__gt=0) | Q(pk__in=list(payable_by_pledge))
    ).values_list("pk", "captured_cents", "refunded_cents"):
        allocated = -payable_by_pledge.get(pledge_id, 0)
        if allocated != captured - refunded:
            problems.append(
                f"pledge {pledge_id}: captured {captured} - refunded {refunded} "
                f"but {allocated} allocated to candidates"
            )

    # Per pledge: an open hold shows in supporter holds, and nothing else does.
    holds_by_pledge = dict(
        entries.filter(account=A.SUPPORTER_HOLDS)
        .values("pledge_id")
        .annotate(total=Sum("amount_cents"))
        .exclude(total=0)
        .values_list("pledge_id", "total")
    )
    open_holds = dict(
        Payment.objects.filter(
            pledge__in=pledges,
            status__in=[Payment.Status.REQUIRES_CAPTURE, Payment.Status.CAPTURING],
        ).values_list("pledge_id", "amount_cents")
    )
    # A hold whose cancel is in flight is still held until Stripe confirms the cancel.
    posted = set(
        transactions.filter(kind__in=["hold", "hold_release"]).values_list("key", flat=True)
    )
    for payment in Payment.objects.filter(pledge__in=pledges, status=Payment.Status.CANCELING):
        if payment.idempotency_key("hold") in posted and (
            payment.idempotency_key("hold-release") not in posted
        ):
            open_holds[payment.pledge_id] = payment.amount_cents
    for pledge_id in sorted(holds_by_pledge.keys() | open_holds.keys()):
        if holds_by_pledge.get(pledge_id, 0) != open_holds.get(pledge_id, 0):
            problems.append(
                f"pledge {pledge_id}: ledger holds {holds_by_pledge.get(pledge_id, 0)} "
                f"but open hold is {open_holds.get(pledge_id, 0)}"
            )

    # Per candidate: never paid more than was owed.
    owed = (
        entries.filter(account__in=[A.CANDIDATE_PAYABLE])
        .values("candidate_id", "slate_id")
        .annotate(total=Sum("amount_cents"))
    )
    problems += [
        f"candidate {row['candidate_id']} on slate {row['slate_id']}: paid "
        f"{row['total']} more than owed"
        for row in owed
        if row["total"] > 0
    ]

    # Per payment: the fee booked is the fee Stripe reported, once; what the books hold as
    # disputed is what Stripe withdrew and still keeps.
    problems += _payments_off_the_books(entries, pledges, A.STRIPE_FEES, "fee_cents", "Stripe fee")
    problems += _payments_off_the_books(entries, pledges, A.DISPUTES, "disputed_cents", "disputed")

    # Per payment: money taken after its pledge ended is owed back only while its automatic
    # refund is on its way.
    owed_back = (
        entries.filter(account=A.SUPPORTER_REFUNDS_DUE)
        .values("transaction__payment_id")
        .annotate(total=Sum("amount_cents"))
        .exclude(total=0)
        .values_list("transaction__payment_id", "total")
    )
    refunding = set(
        Refund.objects.filter(status=Refund.Status.CREATING).values_list("payment_id", flat=True)
    )
    problems += [
        f"payment {payment_id}: {-total} taken after its pledge ended and not refunded"
        for payment_id, total in owed_back
        if payment_id not in refunding
    ]

    # The slate's maintained captured total agrees with the books.
    slate_ids = [slate_id] if slate_id is not None else list(
        transactions.values_list("slate_id", flat=True).distinct()
    )  # fmt: skip
    for sid in slate_ids:
        captured_books = -balance(A.CANDIDATE_PAYABLE, slate_id=sid, pledge__isnull=False)
        maintained = slate_counts(sid).money_captured_cents
        if captured_books != maintained:
            problems.append(
                f"slate {sid}: books show {captured_books} captured, totals show {maintained}"
            )
    return problems


def released_by_candidate(slate_id: int) -> dict[int, tuple[int, int]]:
    """Per signed candidate: (money released to them, money paid out to them), in cents.
    Released is what captures allocated to them, less refunds and disputes taken back (every
    entry on their payable account but the payouts'); paid is their payouts sent or recorded."""
    released = dict(
        LedgerEntry.objects.filter(
            account=A.CANDIDATE_PAYABLE, slate_id=slate_id, transaction__payout__isnull=True
        )
        .values_list("candidate_id")
        .annotate(total=Sum("amount_cents"))
    )
    paid = dict(
        Payout.objects.filter(slate_id=slate_id, status__in=PAYOUT_SENT)
        .values_list("candidate_id")
        .annotate(total=Sum("amount_cents"))
    )
    return {
        candidate_id: (-released.get(candidate_id, 0), paid.get(candidate_id, 0))
        for candidate_id in sorted(set(released) | set(paid))
        if candidate_id is not None
    }


# --- Payments of a pledge ----------------------------------------------------------------------


def open_payment(pledge: Pledge) -> Payment | None:
    """The pledge's payment still open (at most one: a partial unique constraint)."""
    return pledge.payments.filter(status__in=Payment.OPEN).first()


# --- The release's walk ------------------------------------------------------------------------

UNSETTLED_AT_RELEASE = (
    PledgeState.PENDING_CARD,
    PledgeState.COMMITTED,
    PledgeState.AUTHORIZED,
    PledgeState.NEEDS_ACTION,
)


def unsettled_money_pledges(slate_id: int):
    return Pledge.objects.filter(
        slate_id=slate_id, kind=PledgeKind.MONEY, state__in=UNSETTLED_AT_RELEASE
    )


def release_chunk_bounds(*, slate_id: int, size: int) -> list[tuple[int, int]]:
    """Split the pledges a release still has to settle into ``(after, upto]`` id ranges of at
    most ``size`` pledges, one release task each. The ids stream from the database (a million
    pledges are a few megabytes once per release, next to a million Stripe requests)."""
    ends: list[int] = []
    last = None
    ids = unsettled_money_pledges(slate_id).order_by("pk").values_list("pk", flat=True)
    for position, pledge_id in enumerate(ids.iterator(chunk_size=10_000), start=1):
        last = pledge_id
        if position % size == 0:
            ends.append(pledge_id)
    if last is not None and (not ends or ends[-1] != last):
        ends.append(last)
    return list(zip([0, *ends], ends, strict=False))


def release_chunk_ids(
    *, slate_id: int, after_pledge_id: int, limit: int, upto_pledge_id: int | None = None
) -> list[int]:
    pledges = unsettled_money_pledges(slate_id).filter(pk__gt=after_pledge_id)
    if upto_pledge_id is not None:
        pledges = pledges.filter(pk__lte=upto_pledge_id)
    return list(pledges.order_by("pk").values_list("pk", flat=True)[:limit])


def payments_in_flight(slate_id: int) -> bool:
    """A Stripe step of one of the slate's payments was sent and its outcome not recorded."""
    return Payment.objects.filter(pledge__slate_id=slate_id, status__in=Payment.IN_FLIGHT).exists()


def release_walk_finished(*, slate_id: int) -> bool:
    """Every pledge the release can settle by itself is settled: what is left waits for its
    supporter (``needs_action``). Then the captured money can be paid out."""
    waiting_for_us = (
        unsettled_money_pledges(slate_id).exclude(state=PledgeState.NEEDS_ACTION).exists()
    )
    return not waiting_for_us and not payments_in_flight(slate_id)


# --- Voiding ----------------------------------------------------------------------------------

VOIDABLE_WITH_HOLD = (PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION)


def pledges_with_holds_to_void(pledges):
    """Those of ``pledges`` whose card may hold money for them: held or needing the
    supporter, or committed with a payment still being made (its hold may land any moment)."""
    return pledges.filter(
        Q(state__in=VOIDABLE_WITH_HOLD)
        | Q(state=PledgeState.COMMITTED, payments__status__in=Payment.OPEN)
    ).distinct()


# --- What the beat jobs are due to do ----------------------------------------------------------
# A card authorization lapses after about 7 days (Visa merchant-initiated: 4 days 18 hours)
# while a slate may stay open for months, so holds are placed only once the deadline is within
# SLATE_HOLD_WINDOW_HOURS, and renewed before they lapse while the slate is still open.

HOLD_RENEWAL_MARGIN = timedelta(hours=12)


def pledge_ids_due_for_hold(*, now=None) -> list[int]:
    now = now or timezone.now()
    window_end = now + timedelta(hours=settings.SLATE_HOLD_WINDOW_HOURS)
    return list(
        Pledge.objects.filter(
            kind=PledgeKind.MONEY,
            state=PledgeState.COMMITTED,
            slate__state=SlateState.OPEN,
            slate__deadline__lte=window_end,
            card_setups__status=CardSetup.Status.SUCCEEDED,
        )
        .exclude(payments__status__in=Payment.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def payment_ids_due_for_renewal(*, now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Payment.objects.filter(
            status=Payment.Status.REQUIRES_CAPTURE,
            expires_at__lte=now + HOLD_RENEWAL_MARGIN,
            pledge__slate__state=SlateState.OPEN,
        )
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )


def payment_ids_with_unbooked_fees(*, limit: int = 500) -> list[int]:
    return list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, captured_cents__gt=0, fee_cents__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def cards_to_forget(user_ids):
    """The saved cards of ``user_ids`` (a list or a subquery) still attached at Stripe."""
    return CardSetup.objects.filter(
        pledge__supporter_id__in=user_ids,
        status=CardSetup.Status.SUCCEEDED,
        forgotten_at__isnull=True,
    ).exclude(payment_method_id="")
