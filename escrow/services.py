"""Every write about money. Stripe is reached only through ``stripe_gateway``.

The shape of each money step, so that a crash at any line leaves nothing doubled or lost:
1. In a transaction holding the rows' locks (slate shared, then pledge, then payment — always
   that order), check the state and record the intent (a ``creating``/``capturing``/
   ``canceling`` payment row). Commit.
2. Call Stripe with an idempotency key made of our ids and the step.
3. In a new locked transaction, record what Stripe says: payment status, pledge transition
   (``pledges.services.transition_pledge``) and ledger postings (keyed, so never twice).
A crash between 1 and 3 leaves a payment in an in-flight status; the sweeper asks Stripe for
the PaymentIntent and finishes step 3 from the answer.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from candidates.selectors import valid_signatures
from pledges import services as pledge_services
from pledges.models import Pledge, PledgeAllocation
from pledges.states import (
    UNSETTLED_MONEY_STATES,
    PledgeKind,
    PledgeState,
    pledge_transition_allowed,
)
from slate import services as slate_services
from slate.errors import DomainError
from slate.queue import enqueue_on_commit
from slate.states import SlateState

from . import stripe_gateway
from .allocation import allocate
from .ledger import Posting, post
from .models import CardSetup, LedgerAccount, Payment, Refund, StripeCustomer

if TYPE_CHECKING:
    from compliance.selectors import CaptureContext

logger = logging.getLogger(__name__)
A = LedgerAccount


class EscrowError(DomainError):
    pass


# --- Locks --------------------------------------------------------------------------------------


def _lock_pledge(pledge_id: int, slate_id: int | None = None) -> Pledge:
    """Slate (shared) then pledge: the same order as pledges.services.transition_pledge."""
    if slate_id is None:
        slate_id = Pledge.objects.values_list("slate_id", flat=True).get(pk=pledge_id)
    slate_services.lock_slate_shared(slate_id)
    return Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge_id)


def _lock_payment(
    payment_id: int, *, pledge_id: int | None = None, slate_id: int | None = None
) -> tuple[Pledge, Payment]:
    """Slate (shared), pledge, then payment. ``pledge_id`` and ``slate_id``, when the caller
    knows them (they never change for a payment), save the query that looks them up."""
    if pledge_id is None or slate_id is None:
        pledge_id, slate_id = Payment.objects.values_list("pledge_id", "pledge__slate_id").get(
            pk=payment_id
        )
    pledge = _lock_pledge(pledge_id, slate_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.pledge = pledge  # the locked row, so ``payment.pledge`` costs no further query
    return pledge, payment


# --- Customers and card intake ------------------------------------------------------------------


def ensure_customer(user) -> StripeCustomer:
    existing = StripeCustomer.objects.filter(user=user).first()
    if existing is not None:
        return existing
    customer_id = stripe_gateway.create_customer(
        email=user.email, idempotency_key=f"user-{user.pk}-customer", metadata={"user_id": user.pk}
    )
    try:
        with transaction.atomic():
            return StripeCustomer.objects.create(user=user, customer_id=customer_id)
    except IntegrityError:
        return StripeCustomer.objects.get(user=user)


CARD_NEEDED_STATES = (PledgeState.PENDING_CARD, PledgeState.NEEDS_ACTION)
# Before the lock a supporter may put another card on a pledge that has one.
CARD_REPLACEABLE_STATES = (PledgeState.COMMITTED, PledgeState.AUTHORIZED)


def card_can_be_saved(pledge: Pledge) -> bool:
    """A card is wanted (first card, or one declined) or may replace the saved one (the
    slate is still open)."""
    if pledge.kind != PledgeKind.MONEY:
        return False
    if pledge.state in CARD_NEEDED_STATES:
        return True
    return pledge.state in CARD_REPLACEABLE_STATES and pledge.slate.state == SlateState.OPEN


def start_card_setup(*, pledge: Pledge, actor) -> CardSetup:
    """The SetupIntent whose client secret the card page hands to Stripe.js: the first card
    of a new pledge, a replacement for a card declined at release, or (before the lock)
    another card the supporter would rather pay with."""
    if not actor.is_authenticated or actor.pk != pledge.supporter_id:
        raise EscrowError("forbidden", "Only the supporter adds a card to their pledge.")
    if pledge.state == PledgeState.PENDING_CARD and pledge.slate.deadline <= timezone.now():
        raise EscrowError(
            "deadline_passed",
            "The slate's deadline has passed; a card can no longer be added to this pledge.",
        )
    if not card_can_be_saved(pledge):
        raise EscrowError("no_card_needed", "This pledge's card can no longer be changed.")
    existing = pledge.card_setups.filter(status=CardSetup.Status.PENDING).first()
    if existing is not None:
        return existing
    customer = ensure_customer(pledge.supporter)
    number = pledge.card_setups.count() + 1
    result = stripe_gateway.create_setup_intent(
        customer_id=customer.customer_id,
        idempotency_key=f"pledge-{pledge.pk}-setup-{number}",
        metadata={"pledge_id": pledge.pk, "slate_id": pledge.slate_id},
    )
    return CardSetup.objects.create(
        pledge=pledge, customer=customer, setup_intent_id=result.id,
        client_secret=result.client_secret,
    )  # fmt: skip


def confirm_card_setup(*, setup_intent_id: str) -> CardSetup:
    """Ask Stripe how the SetupIntent ended and record it. Called when Stripe.js returns and
    by the ``setup_intent.succeeded`` webhook; whichever comes second changes nothing. A
    replacement card is charged at once."""
    result = stripe_gateway.retrieve_setup_intent(setup_intent_id)
    with transaction.atomic():
        card_setup = CardSetup.objects.select_for_update().get(setup_intent_id=setup_intent_id)
        if card_setup.status != CardSetup.Status.SUCCEEDED:
            if result.status != "succeeded" or not result.payment_method_id:
                card_setup.last_error = (result.last_error_code or result.status or "")[:500]
                card_setup.save(update_fields=["last_error", "updated_at"])
                return card_setup
            card_setup.status = CardSetup.Status.SUCCEEDED
            card_setup.payment_method_id = result.payment_method_id
            card_setup.last_error = ""
            card_setup.save(
                update_fields=["status", "payment_method_id", "last_error", "updated_at"]
            )
        # Locked before its state is read, so a cancel or void landing meanwhile is seen.
        pledge = _lock_pledge(card_setup.pledge_id)
        if pledge.state == PledgeState.PENDING_CARD:
            try:
                pledge = pledge_services.commit_money_pledge(
                    pledge=pledge, reason="card saved with Stripe"
                )
            except pledge_services.PledgeError as exc:
                # Saved too late (the deadline passed): the card stays saved at Stripe, the
                # pledge stays pending and is voided with the slate's other late pledges.
                if exc.code != "deadline_passed":
                    raise
                card_setup.last_error = exc.message[:500]
                card_setup.save(update_fields=["last_error", "updated_at"])
                return card_setup
    # The card's first use is finished here on every call, not only the first: a crash (or a
    # failed webhook attempt) between saving the card and using it leaves the old hold or
    # the declined payment in place, and the next call (the webhook sweeper) moves on from
    # there. A card already used by a payment has been acted on: nothing more to do.
    if pledge.payments.filter(card_setup=card_setup).exists():
        return card_setup
    if pledge.state == PledgeState.NEEDS_ACTION:
        retry_with_new_card(pledge_id=pledge.pk)
    elif pledge.state == PledgeState.AUTHORIZED:
        move_hold_to_newest_card(pledge_id=pledge.pk)
    return card_setup


def move_hold_to_newest_card(*, pledge_id: int) -> Payment | None:
    """The supporter replaced the card of a held pledge before the lock: let the old hold go
    (the pledge is committed again) and hold the new card. If the slate has locked meanwhile
    (the card setup was started before the lock and finished after it), the good hold stays
    for the release to capture and the new card is only saved; a decline of the new card
    leaves the pledge committed (it is held or charged later, like any committed pledge)."""
    pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
    payment = _open_payment(pledge)
    newest = _card_for(pledge)
    if payment is None or payment.card_setup_id == newest.pk:
        return payment
    try:
        cancel_payment(
            payment_id=payment.pk, purpose=CancelPurpose.CARD_REPLACED, reason="card replaced"
        )
    except EscrowError as exc:  # the slate locked (a card setup started before), or released
        logger.info("pledge %s keeps its hold: %s", pledge_id, exc.message)
        return payment
    return authorize_pledge(pledge_id=pledge_id)


# --- Recording what Stripe did ------------------------------------------------------------------


def _post_hold(payment: Payment) -> None:
    post(
        key=payment.idempotency_key("hold"), kind="hold", slate_id=payment.pledge.slate_id,
        pledge_id=payment.pledge_id, payment_id=payment.pk,
        postings=[Posting(A.SUPPORTER_HOLDS, payment.amount_cents),
                  Posting(A.HOLDS_OUTSTANDING, -payment.amount_cents)],
    )  # fmt: skip


def _post_hold_release(payment: Payment, why: str) -> None:
    """Reverse a hold's entries once (captured, canceled or lapsed) — if it was ever posted."""
    post(
        key=payment.idempotency_key("hold-release"), kind="hold_release",
        after_key=payment.idempotency_key("hold"),
        slate_id=payment.pledge.slate_id, pledge_id=payment.pledge_id, payment_id=payment.pk,
        memo=why,
        postings=[Posting(A.SUPPORTER_HOLDS, -payment.amount_cents),
                  Posting(A.HOLDS_OUTSTANDING, payment.amount_cents)],
    )  # fmt: skip


# Once a slate has left "open" its signatures can no longer change (withdrawals and new
# signatures are refused), so a release asks the database once per slate, not per pledge.
_final_signers: dict[int, list[int]] = {}


def signed_candidate_ids(slate) -> list[int]:
    if slate.pk in _final_signers:
        return _final_signers[slate.pk]
    signed = sorted(valid_signatures(slate).values_list("candidate_id", flat=True))
    if slate.state not in (SlateState.DRAFT, SlateState.OPEN):
        _final_signers[slate.pk] = signed
    return signed


def _allocation_weights(pledge: Pledge) -> dict[int, int]:
    return {a.candidate_id: a.weight_bps for a in pledge.allocations.all()}


def _planned_split(
    pledge: Pledge, amount_cents: int, weights: dict[int, int] | None = None
) -> dict[int, int]:
    """``amount_cents`` split among the signed candidates: the supporter's allocation, else
    equally (remainders to the largest fractions). ``weights``: the allocation, if read."""
    if weights is None:
        weights = _allocation_weights(pledge)
    return allocate(amount_cents, signed_candidate_ids(pledge.slate), weights)


def _decide_capture(pledge: Pledge, amount_cents: int, context: "ReleaseContext | None" = None):
    """What may be taken from ``amount_cents`` now: each candidate's share capped by what the
    donor may still give that candidate for this election (contribution limits are data in
    the compliance app). Compliance records the decision under the donor's lock, so the
    donor's other captures running at the same moment count it."""
    from compliance.services import decide_capture

    weights = context.weights.get(pledge.pk, {}) if context is not None else None
    return decide_capture(
        pledge=pledge, planned=_planned_split(pledge, amount_cents, weights), at=timezone.now(),
        signed_candidate_ids=signed_candidate_ids(pledge.slate),
        context=context.capture if context is not None else None,
    )  # fmt: skip


class NothingCapturable(EscrowError):
    """The donor's contribution limits leave nothing of this pledge to take."""


def _nothing_capturable(decision) -> NothingCapturable:
    why = " ".join(decision.reasons) or "The contribution limits leave nothing to capture."
    return NothingCapturable("nothing_capturable", why[:400])


def _credited_parts(pledge: Pledge, captured_cents: int) -> tuple[dict[int, int], list[str]]:
    """Who is credited with a capture, and why it was capped (if it was): the split decided
    before the capture was sent, when it adds up to what Stripe took; else (say a capture
    made in the Stripe dashboard) the planned split of what was taken."""
    from compliance.models import CaptureDecision

    decision = CaptureDecision.objects.filter(pledge_id=pledge.pk).first()
    if decision is not None:
        parts = {int(cid): cents for cid, cents in decision.capturable.items() if cents}
        if sum(parts.values()) == captured_cents:
            return parts, list(decision.reasons)
        logger.warning(
            "pledge %s: Stripe captured %s cents, the decision allowed %s; crediting the split",
            pledge.pk, captured_cents, sum(parts.values()),
        )  # fmt: skip
    return _planned_split(pledge, captured_cents), []


def _post_capture(pledge: Pledge, payment: Payment, captured_cents: int) -> list[str]:
    parts, reasons = _credited_parts(pledge, captured_cents)
    postings = [Posting(A.PLATFORM_CLEARING, captured_cents)] + [
        Posting(A.CANDIDATE_PAYABLE, -cents, candidate_id=cid) for cid, cents in parts.items()
    ]
    post(
        key=payment.idempotency_key("capture"), kind="capture", slate_id=pledge.slate_id,
        pledge_id=pledge.pk, payment_id=payment.pk, postings=postings,
    )  # fmt: skip
    return reasons


def hold_validity() -> timedelta:
    return timedelta(hours=settings.SLATE_HOLD_VALID_HOURS)


# PaymentIntent statuses in which the intent still holds the card or waits for its supporter:
# such an intent on a payment we no longer want is cancelled at Stripe at once.
LIVE_INTENT_STATUSES = frozenset(
    {"requires_capture", "requires_action", "requires_payment_method", "requires_confirmation"}
)
# A pledge a payment may still be made for, or land on, and the slates whose pledges may
# still pay. A new hold needs an open slate, a new charge a locked one (``authorize_pledge``);
# a payment already on its way may land a little later, up to the release's end.
PAYABLE_PLEDGE_STATES = (PledgeState.COMMITTED, PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION)
NEW_PAYMENT_SLATE_STATES = {
    Payment.Purpose.HOLD: (SlateState.OPEN,),
    Payment.Purpose.CHARGE: (SlateState.LOCKED, SlateState.RELEASING),
}
LANDING_SLATE_STATES = (SlateState.OPEN, SlateState.LOCKED, SlateState.RELEASING)


def _pledge_payable(pledge: Pledge) -> bool:
    """The pledge may still be held or charged (read under the pledge's lock)."""
    return pledge.state in PAYABLE_PLEDGE_STATES and pledge.slate.state in LANDING_SLATE_STATES


def _unwanted(pledge: Pledge, payment: Payment, status: str) -> bool:
    """Stripe made (or kept) ``payment`` as ``status``, but we no longer want it: we gave it
    up (cancelled or failed it; a cancel in flight for a pledge that ends), or its pledge is no
    longer live. A cancel sent when the grace period ended, answered by a success the supporter
    completed a moment before, is still wanted: the pledge is paid on time."""
    if payment.status == Payment.Status.SUCCEEDED:
        return False
    if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
        return True
    if payment.status == Payment.Status.CANCELING and (
        status in LIVE_INTENT_STATUSES or payment.cancel_purpose not in PAYING_CANCEL_PURPOSES
    ):
        return True
    return not _pledge_payable(pledge)


def record_payment_intent(
    *,
    payment_id: int,
    result,
    pledge_id: int | None = None,
    slate_id: int | None = None,
    let_go: bool = True,
) -> Payment:
    """Bring our payment, its pledge and the ledger in line with a PaymentIntent's status.
    ``pledge_id``/``slate_id``: see ``_lock_payment``.

    An intent that turns out to belong to a payment we no longer want (see ``_unwanted``) is
    let go at once: a hold or an intent waiting for the supporter is cancelled at Stripe (the
    payment is marked ``canceling`` first, so the sweeper finishes if we die), and money
    already taken is booked and refunded in full (``_book_unwanted_success``). ``let_go``:
    False when recording the answer to a cancel (it is not sent twice in a row)."""
    payment, cancel_now = _record_payment_intent(
        payment_id=payment_id, result=result, pledge_id=pledge_id, slate_id=slate_id
    )
    if cancel_now and let_go:
        logger.warning(
            "payment %s: Stripe holds %s for a payment we gave up; cancelling it",
            payment.pk, payment.payment_intent_id,
        )  # fmt: skip
        return _act_and_record(
            payment, stripe_gateway.cancel, idempotency_key=payment.idempotency_key("cancel")
        )
    return payment


def _record_payment_intent(*, payment_id, result, pledge_id, slate_id) -> tuple[Payment, bool]:
    """``record_payment_intent`` in one transaction; returns the payment and whether its
    intent must now be cancelled at Stripe (after this transaction commits)."""
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id, pledge_id=pledge_id, slate_id=slate_id)
        learned_id = payment.payment_intent_id is None and bool(result.id)
        if learned_id:
            payment.payment_intent_id = result.id
            payment.client_secret = result.client_secret or ""
        status = result.status
        if status in LIVE_INTENT_STATUSES and _unwanted(pledge, payment, status):
            return payment, _let_go_of_unwanted_intent(pledge, payment, learned_id)
        if status == "requires_capture":
            if payment.status in (Payment.Status.CREATING, Payment.Status.REQUIRES_ACTION):
                payment.status = Payment.Status.REQUIRES_CAPTURE
                payment.expires_at = timezone.now() + hold_validity()
                payment.save()
                _post_hold(payment)
                if pledge.state in (PledgeState.COMMITTED, PledgeState.NEEDS_ACTION):
                    pledge_services.transition_locked_pledge(
                        pledge=pledge, to_state=PledgeState.AUTHORIZED, reason="card authorized"
                    )
        elif status == "succeeded":
            if payment.status == Payment.Status.SUCCEEDED:
                pass
            elif _unwanted(pledge, payment, status):
                _book_unwanted_success(pledge, payment, result)
            else:
                captured = result.amount_received_cents or payment.amount_cents
                payment.status = Payment.Status.SUCCEEDED
                payment.captured_cents = captured
                payment.save()
                _post_hold_release(payment, "captured")
                caps = _post_capture(pledge, payment, captured)
                if pledge.state != PledgeState.CAPTURED:
                    reason = "payment captured"
                    if captured < pledge.amount_cents:
                        reason += f" ({captured} of {pledge.amount_cents} cents)"
                    pledge_services.transition_locked_pledge(
                        pledge=pledge, to_state=PledgeState.CAPTURED,
                        reason=" ".join([reason, *caps])[:500], captured_cents=captured,
                    )  # fmt: skip
        elif status == "canceled":
            if payment.status != Payment.Status.CANCELED:
                payment.status = Payment.Status.CANCELED
                payment.save()
                _post_hold_release(payment, "canceled")
                _move_pledge_after_cancel(pledge, payment)
        elif status in ("requires_action", "requires_payment_method", "requires_confirmation"):
            if payment.status not in (Payment.Status.REQUIRES_ACTION, Payment.Status.SUCCEEDED):
                payment.status = Payment.Status.REQUIRES_ACTION
                payment.last_error = (result.last_error_code or result.decline_code or status)[:500]
                payment.save()
                _post_hold_release(payment, "needs the supporter")
                if pledge.state in (PledgeState.COMMITTED, PledgeState.AUTHORIZED):
                    pledge_services.transition_locked_pledge(
                        pledge=pledge, to_state=PledgeState.NEEDS_ACTION,
                        reason=f"card needs the supporter: {payment.last_error}",
                    )  # fmt: skip
                from . import tasks

                enqueue_on_commit(tasks.notify_needs_action, payment.pk)
        else:
            logger.warning("payment %s: unexpected PaymentIntent status %s", payment_id, status)
        if learned_id:
            payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
        return payment, False


def _let_go_of_unwanted_intent(pledge: Pledge, payment: Payment, learned_id: bool) -> bool:
    """A hold, or an intent waiting for the supporter, on a payment we no longer want. A
    payment still open is marked ``canceling`` (the sweeper finishes the cancel if we die);
    one we had already closed keeps its status (a second open payment of the pledge may
    exist). Returns whether the caller should send the cancel now: not when a canceller
    holding the mark is already on it (it knew the intent's id)."""
    if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
        payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
        return True
    if payment.status != Payment.Status.CANCELING:
        payment.status = Payment.Status.CANCELING
        payment.cancel_purpose = CancelPurpose.ENDED
        payment.cancel_reason = "the pledge ended while its payment was being made"
        payment.save()
        return True
    if learned_id:
        payment.save(update_fields=["payment_intent_id", "client_secret", "updated_at"])
    return learned_id


def _book_unwanted_success(pledge: Pledge, payment: Payment, result) -> Refund:
    """Stripe took money for a payment we had given up, or for a pledge that has ended (the
    supporter finished 3-D Secure after the grace period, a create landed after a cancel):
    book what was taken as owed back to the supporter (``platform_clearing`` debited,
    ``supporter_refunds_due`` credited; no candidate is credited, the pledge keeps its final
    state and no contribution limit counts it) and refund it in full at once. The refund row
    is written here, in the same transaction, so the sweeper sends it if its task is lost."""
    captured = result.amount_received_cents or payment.amount_cents
    payment.status = Payment.Status.SUCCEEDED
    payment.captured_cents = captured
    payment.unwanted_at = timezone.now()
    payment.save()
    _post_hold_release(payment, "captured after the payment was given up")
    post(
        key=payment.idempotency_key("capture"), kind="unwanted_capture",
        slate_id=pledge.slate_id, pledge_id=pledge.pk, payment_id=payment.pk,
        memo=f"taken by Stripe after the pledge was {pledge.state}",
        postings=[Posting(A.PLATFORM_CLEARING, captured),
                  Posting(A.SUPPORTER_REFUNDS_DUE, -captured)],
    )  # fmt: skip
    refund = Refund.objects.create(
        payment=payment, number=payment.refunds.count() + 1, amount_cents=captured,
        reason=f"paid after the pledge was {pledge.state}: refunded automatically",
    )  # fmt: skip
    logger.warning(
        "payment %s of %s pledge %s succeeded at Stripe (%s cents): refunding it",
        payment.pk, pledge.state, pledge.pk, captured,
    )  # fmt: skip
    from . import tasks

    enqueue_on_commit(tasks.send_refund, refund.pk)
    return refund


def _move_pledge_after_cancel(pledge: Pledge, payment: Payment) -> None:
    """Where the canceller meant the pledge to go once Stripe confirmed the cancel (see
    ``CANCEL_TARGETS``); a replaced payment leaves it where it is."""
    if payment.cancel_purpose == CancelPurpose.REPLACE:
        return
    target = CANCEL_TARGETS.get(payment.cancel_purpose, PledgeState.COMMITTED)
    if payment.cancel_purpose == CancelPurpose.ENDED:
        # A hold landing on a pledge of a slate that expired meanwhile: the pledge is voided
        # with it (the expiry's void may have passed it by while it looked unheld).
        if pledge.slate.state not in (SlateState.EXPIRED, SlateState.VOIDED):
            return
        target = PledgeState.VOIDED
    # A committed pledge's payment was still being made when it was cancelled.
    if pledge.state in PAYABLE_PLEDGE_STATES and (
        pledge_transition_allowed(pledge.kind, pledge.state, target)
    ):
        pledge_services.transition_locked_pledge(
            pledge=pledge, to_state=target,
            reason=payment.cancel_reason
            or f"hold canceled ({payment.cancel_purpose or 'dropped'})",
        )  # fmt: skip


# --- Holds, charges, captures, cancels ----------------------------------------------------------


def _new_payment(pledge: Pledge, purpose: str, amount_cents: int) -> Payment:
    attempt = (
        pledge.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
    ) + 1
    return Payment.objects.create(
        pledge=pledge, attempt=attempt, purpose=purpose, amount_cents=amount_cents,
        currency=pledge.currency,
    )  # fmt: skip


def _card_for(pledge: Pledge) -> CardSetup:
    """The newest saved card."""
    card_setup = (
        pledge.card_setups.filter(status=CardSetup.Status.SUCCEEDED).order_by("-pk").first()
    )
    if card_setup is None:
        raise EscrowError("no_card", "This pledge has no saved card.")
    return card_setup


def _open_payment(pledge: Pledge) -> Payment | None:
    return pledge.payments.filter(status__in=Payment.OPEN).first()


def authorize_pledge(
    *,
    pledge_id: int,
    purpose: str = Payment.Purpose.HOLD,
    from_states: tuple[str, ...] = (PledgeState.COMMITTED,),
    context: "ReleaseContext | None" = None,
) -> Payment | None:
    """Place a hold (or, at release, charge) on the newest saved card of a pledge. A hold is
    for the whole pledge; a charge takes what the donor's contribution limits allow
    (``NothingCapturable`` when that is nothing). ``context``: the release's shared reads."""
    with transaction.atomic():
        pledge = _lock_pledge(pledge_id, context.slate_id if context is not None else None)
        open_payment = _open_payment(pledge)
        if pledge.state not in from_states or open_payment is not None:
            return open_payment
        if pledge.slate.state not in NEW_PAYMENT_SLATE_STATES[purpose]:
            # The slate expired, released or locked since the caller looked: a hold or charge
            # placed now would belong to no live pledge. The slate is locked shared here, so
            # its state cannot change before the payment row below is written.
            logger.info("pledge %s: no %s on a %s slate", pledge_id, purpose, pledge.slate.state)
            return None
        card_setup = _card_for(pledge)
        amount_cents = pledge.amount_cents
        if purpose == Payment.Purpose.CHARGE:
            decision = _decide_capture(pledge, amount_cents, context)
            if decision.total_cents == 0:
                raise _nothing_capturable(decision)
            amount_cents = decision.total_cents
        payment = _new_payment(pledge, purpose, amount_cents)
        payment.card_setup = card_setup
        payment.save(update_fields=["card_setup"])
    return send_create(payment)


def send_create(payment: Payment) -> Payment:
    """Send a ``creating`` payment's PaymentIntent to Stripe and record the answer. Only the
    first send comes here straight; a create whose outcome is unknown goes through
    ``settle_unknown_create``, which looks for the intent at Stripe before sending again."""
    card_setup = payment.card_setup
    create = (
        stripe_gateway.create_hold
        if payment.purpose == Payment.Purpose.HOLD
        else stripe_gateway.charge_off_session
    )
    try:
        result = create(
            customer_id=card_setup.customer.customer_id,
            payment_method_id=card_setup.payment_method_id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key("create"),
            metadata={"pledge_id": payment.pledge_id, "payment_id": payment.pk},
        )
    except stripe_gateway.GatewayError as exc:
        if exc.retryable:
            raise  # the row stays "creating"; a retry or the sweeper resends the same key
        return record_refused_payment(payment_id=payment.pk, error=exc)
    return _record(payment, result)


def _record(payment: Payment, result, *, let_go: bool = True) -> Payment:
    """``record_payment_intent`` for a payment whose pledge we have in hand (in the normal
    path it is the row locked a moment ago; the sweeper's payments read it once)."""
    return record_payment_intent(
        payment_id=payment.pk, result=result,
        pledge_id=payment.pledge_id, slate_id=payment.pledge.slate_id, let_go=let_go,
    )  # fmt: skip


def _act_and_record(payment: Payment, stripe_call, **arguments) -> Payment:
    """Ask Stripe to capture or cancel, then record the PaymentIntent as it now stands. A
    refusal for good means the step already happened (or cannot) on Stripe's side, say on a
    retry after a crash: then Stripe's current record is the truth."""
    try:
        result = stripe_call(payment_intent_id=payment.payment_intent_id, **arguments)
    except stripe_gateway.GatewayError as exc:
        if exc.retryable:
            raise
        result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    return _record(payment, result, let_go=False)


def record_refused_payment(*, payment_id: int, error) -> Payment:
    """Stripe refused to create the payment for good (the saved card or customer is unusable).
    Before the lock the pledge simply stays committed (it is charged at release); at release
    it needs its supporter, who can save another card."""
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id)
        if payment.status != Payment.Status.CREATING:
            return payment
        payment.status = Payment.Status.FAILED
        payment.last_error = f"{error.code}: {error.message}"[:500]
        payment.save(update_fields=["status", "last_error", "updated_at"])
        if payment.purpose == Payment.Purpose.CHARGE and pledge.state == PledgeState.COMMITTED:
            pledge_services.transition_locked_pledge(
                pledge=pledge, to_state=PledgeState.NEEDS_ACTION,
                reason=f"Stripe refused the charge: {payment.last_error}",
            )  # fmt: skip
    logger.warning("payment %s refused by Stripe: %s", payment_id, error)
    return payment


def capture_payment(
    *, payment_id: int, pledge_id: int | None = None, context: "ReleaseContext | None" = None
) -> Payment:
    """Capture a held payment: in full, or as much as the donor's contribution limits allow
    (Stripe releases the rest of the hold). Safe to run any number of times: the amount is
    decided once, with the step that marks the payment ``capturing``, and a retry asks for
    the same. ``NothingCapturable`` when the limits leave nothing to take. ``pledge_id`` and
    ``context`` (the release's shared reads) save queries when the caller has them."""
    slate_id = context.slate_id if context is not None and pledge_id is not None else None
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id, pledge_id=pledge_id, slate_id=slate_id)
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        if payment.status not in (Payment.Status.REQUIRES_CAPTURE, Payment.Status.CAPTURING):
            raise EscrowError("not_capturable", f"A {payment.status} payment cannot be captured.")
        if payment.status == Payment.Status.REQUIRES_CAPTURE:
            decision = _decide_capture(pledge, payment.amount_cents, context)
            if decision.total_cents == 0:
                raise _nothing_capturable(decision)
            payment.capture_cents = decision.total_cents
            payment.status = Payment.Status.CAPTURING
            payment.save(update_fields=["status", "capture_cents", "updated_at"])
    return _act_and_record(
        payment,
        stripe_gateway.capture,
        amount_to_capture_cents=(
            payment.amount_cents if payment.capture_cents is None else payment.capture_cents
        ),
        idempotency_key=payment.idempotency_key("capture"),
    )


class CancelPurpose:
    SUPPORTER = "supporter"  # the supporter cancelled the pledge
    VOID = "void"  # the slate expired, or the pledge's own conditions failed at the lock
    DROP = "drop"  # the hold is let go (lapsing, renewal); the pledge stays committed
    REPLACE = "replace"  # a declined payment gives way to one on the supporter's new card
    CARD_REPLACED = "card_replaced"  # a good hold gives way to one on the supporter's new card
    FAIL = "fail"  # the grace period ended with the payment still needing its supporter
    ENDED = "ended"  # Stripe made the payment after its pledge had ended


CANCEL_TARGETS = {
    CancelPurpose.SUPPORTER: PledgeState.CANCELLED,
    CancelPurpose.VOID: PledgeState.VOIDED,
    CancelPurpose.DROP: PledgeState.COMMITTED,
    CancelPurpose.CARD_REPLACED: PledgeState.COMMITTED,
    CancelPurpose.FAIL: PledgeState.FAILED,
}
# The supporter's own changes: allowed only while the slate is open. Once it has locked the
# pledge is final, and a good hold must stay for the release to capture.
SUPPORTER_CANCEL_PURPOSES = (CancelPurpose.SUPPORTER, CancelPurpose.CARD_REPLACED)
# Cancels whose pledge still takes the money if Stripe answers that it was paid meanwhile.
PAYING_CANCEL_PURPOSES = (
    CancelPurpose.DROP, CancelPurpose.REPLACE, CancelPurpose.CARD_REPLACED, CancelPurpose.FAIL
)  # fmt: skip


def cancel_payment(*, payment_id: int, purpose: str, reason: str = "") -> Payment:
    """Let a hold go. ``purpose`` says where its pledge goes once Stripe confirms (see
    ``CANCEL_TARGETS``), ``reason`` what the pledge's history says about it. A payment still
    ``creating`` is marked ``canceling`` first: its create may have reached Stripe, so it is
    looked for there (``settle_unknown_create``) and cancelled if found."""
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id)
        if payment.status in (Payment.Status.CANCELED, Payment.Status.FAILED):
            return payment
        if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CAPTURING):
            raise EscrowError("already_captured", "This payment is being or has been captured.")
        resuming = payment.status == Payment.Status.CANCELING  # intent recorded earlier
        if (
            purpose in SUPPORTER_CANCEL_PURPOSES
            and not resuming
            and pledge.slate.state != SlateState.OPEN
        ):
            # The slate lock takes the slate row exclusively; we hold it shared, so this
            # check and the CANCELING mark below cannot interleave with the lock.
            raise EscrowError("slate_closed", "The slate has locked; the pledge is final.")
        if (
            purpose == CancelPurpose.SUPPORTER
            and not resuming
            and pledge.slate.deadline <= (timezone.now())
        ):
            raise EscrowError(
                "deadline_passed",
                "The slate's deadline has passed; pledges can no longer be cancelled.",
            )
        # A create last sent (or written) longer ago than the sweeper's timeout is not in
        # flight any more: if Stripe has no intent for it now, it never will.
        create_settled = payment.updated_at <= timezone.now() - payment_stale_after()
        if not resuming:
            payment.status = Payment.Status.CANCELING
            payment.cancel_purpose, payment.cancel_reason = purpose, reason[:500]
            payment.save(update_fields=["status", "cancel_purpose", "cancel_reason", "updated_at"])
    if payment.payment_intent_id is None:
        return settle_unknown_create(payment_id=payment.pk, final=create_settled)
    return _act_and_record(
        payment, stripe_gateway.cancel, idempotency_key=payment.idempotency_key("cancel")
    )


def payment_stale_after() -> timedelta:
    """How long a payment may sit in flight before the sweeper takes it for abandoned."""
    return timedelta(seconds=settings.SLATE_PAYMENT_STALE_SECONDS)


def _find_created_intent(payment: Payment):
    """The PaymentIntent Stripe made for ``payment``'s create, if it made one: the
    customer's intents, matched by the ids we put in its metadata (and its amount)."""
    card_setup = payment.card_setup
    if card_setup is None:
        return None
    found = stripe_gateway.find_payment_intent(
        customer_id=card_setup.customer.customer_id,
        metadata={"pledge_id": payment.pledge_id, "payment_id": payment.pk},
        created_after=int((payment.created_at - timedelta(hours=1)).timestamp()),
    )
    if found is not None and found.amount_cents != payment.amount_cents:
        logger.warning("payment %s: intent %s has another amount", payment.pk, found.id)
        return None
    return found


def settle_unknown_create(*, payment_id: int, final: bool = True) -> Payment:
    """A payment whose create may or may not have reached Stripe (a killed worker, a lost
    answer): ``creating``, or ``canceling`` before its intent's id was known.

    First look for the intent at Stripe by our own ids and adopt it if found (the recorder
    then cancels it, or refunds it, if the payment is no longer wanted). Only when Stripe has
    none: a payment being cancelled is closed (``final``: no create can still be in flight;
    otherwise it stays ``canceling`` for the sweeper to look again), and a create is sent again
    only while its pledge is live. Resending on the idempotency key alone is not enough:
    Stripe forgets keys after 24 hours, and localstripe ignores them."""
    payment = Payment.objects.select_related("pledge__slate", "card_setup__customer").get(
        pk=payment_id
    )
    found = _find_created_intent(payment)
    if found is not None:
        logger.info("payment %s: adopting %s found at Stripe", payment_id, found.id)
        return _record(payment, found)
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id)
        if payment.payment_intent_id is not None:
            return payment  # recorded meanwhile by whoever sent it
        if payment.status == Payment.Status.CANCELING:
            if final:
                payment.status = Payment.Status.CANCELED
                payment.save(update_fields=["status", "updated_at"])
                _move_pledge_after_cancel(pledge, payment)
            return payment
        if payment.status != Payment.Status.CREATING:
            return payment
        if not _pledge_payable(pledge):
            payment.status = Payment.Status.CANCELED
            payment.cancel_purpose = CancelPurpose.ENDED
            payment.cancel_reason = f"never sent again: the pledge is {pledge.state}"
            payment.save(update_fields=["status", "cancel_purpose", "cancel_reason", "updated_at"])
            return payment
    card_setup = CardSetup.objects.select_related("customer").get(pk=payment.card_setup_id)
    payment.card_setup = card_setup
    return send_create(payment)


# --- Supporter cancel and voiding ---------------------------------------------------------------


def cancel_pledge(*, pledge: Pledge, actor, reason: str = "") -> Pledge:
    """The supporter cancels before the lock; any hold on their card is released first."""
    if not actor.is_authenticated or (actor.pk != pledge.supporter_id and not actor.is_staff):
        raise EscrowError("forbidden", "You can cancel only your own pledges.")
    payment = _open_payment(pledge)
    if payment is not None:  # a hold, or one being placed: let it go first
        cancel_payment(payment_id=payment.pk, purpose=CancelPurpose.SUPPORTER)
        pledge.refresh_from_db()
        if pledge.state == PledgeState.CANCELLED:
            return pledge
    try:
        return pledge_services.cancel_pledge(pledge=pledge, actor=actor, reason=reason)
    except pledge_services.PledgeError as exc:
        raise EscrowError(exc.code, exc.message, field=exc.field) from None


VOIDABLE = (PledgeState.PENDING_CARD, PledgeState.COMMITTED, PledgeState.NEEDS_ACTION)
VOIDABLE_WITH_HOLD = (PledgeState.AUTHORIZED, PledgeState.NEEDS_ACTION)


def pledges_with_holds_to_void(pledges):
    """Those of ``pledges`` whose card may hold money for them: held or needing the
    supporter, or committed with a payment still being made (its hold may land any moment)."""
    return pledges.filter(
        Q(state__in=VOIDABLE_WITH_HOLD)
        | Q(state=PledgeState.COMMITTED, payments__status__in=Payment.OPEN)
    ).distinct()


def void_pledge(*, pledge_id: int, reason: str) -> Pledge:
    """Void a pledge that will never be charged: release its hold, then mark it voided."""
    pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
    payment = _open_payment(pledge)
    if payment is not None:
        cancel_payment(payment_id=payment.pk, purpose=CancelPurpose.VOID, reason=reason)
        pledge.refresh_from_db()
    if pledge.state in VOIDABLE:
        pledge = pledge_services.transition_pledge(
            pledge=pledge, to_state=PledgeState.VOIDED, reason=reason, expected_states=VOIDABLE
        )
    return pledge


# --- Release after the lock ---------------------------------------------------------------------

UNSETTLED_AT_RELEASE = (
    PledgeState.PENDING_CARD,
    PledgeState.COMMITTED,
    PledgeState.AUTHORIZED,
    PledgeState.NEEDS_ACTION,
)


def start_release(*, slate_id: int) -> bool:
    """``locked -> releasing``, once; the caller then walks the pledges in chunks."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        if slate.state != SlateState.LOCKED:
            return slate.state == SlateState.RELEASING
        slate_services.transition_slate(
            slate=slate, to_state=SlateState.RELEASING, actor=None, reason="release started"
        )
    return True


def conditions_hold(
    pledge: Pledge, signed_ids: list[int], required_ids: set[int] | None = None
) -> bool:
    if pledge.condition_min_signatures and len(signed_ids) < pledge.condition_min_signatures:
        return False
    if required_ids is None:
        required_ids = set(pledge.condition_required_candidates.values_list("id", flat=True))
    return required_ids <= set(signed_ids)


@dataclass(frozen=True)
class ReleaseContext:
    """What settling a chunk of one releasing slate's pledges reads once, not per pledge.

    ``pledges`` is a snapshot read without locks, like the read ``release_pledge`` makes to
    choose a step; every step then locks its rows and checks the state again, so a pledge
    that moved since the snapshot is refused cleanly and the sweeper's next walk settles it.
    The rest does not change once the slate has locked: signatures, each pledge's required
    candidates and allocation (a pledge is final at the lock), and its declaration."""

    slate_id: int
    signed_ids: list[int]
    pledges: dict[int, Pledge]
    required_ids: dict[int, set[int]]
    weights: dict[int, dict[int, int]]
    open_payments: dict[int, Payment]
    with_card: set[int]
    capture: "CaptureContext"


def release_context(*, slate_id: int, pledge_ids: list[int]) -> ReleaseContext:
    """The shared reads for settling ``pledge_ids`` of a releasing slate: about a dozen
    queries for a chunk of any size; it also makes sure every supporter has a donor record,
    so deciding a capture only locks and reads that donor."""
    from compliance.selectors import capture_context
    from compliance.services import ensure_donors

    pledges = Pledge.objects.select_related("slate").in_bulk(pledge_ids)
    required: dict[int, set[int]] = defaultdict(set)
    through = Pledge.condition_required_candidates.through.objects.filter(pledge_id__in=pledge_ids)
    for pledge_id, candidate_id in through.values_list("pledge_id", "candidate_id"):
        required[pledge_id].add(candidate_id)
    weights: dict[int, dict[int, int]] = defaultdict(dict)
    allocations = PledgeAllocation.objects.filter(pledge_id__in=pledge_ids)
    for pledge_id, candidate_id, weight in allocations.values_list(
        "pledge_id", "candidate_id", "weight_bps"
    ):
        weights[pledge_id][candidate_id] = weight
    open_payments = {
        payment.pledge_id: payment
        for payment in Payment.objects.filter(pledge_id__in=pledge_ids, status__in=Payment.OPEN)
    }
    with_card = set(
        CardSetup.objects.filter(
            pledge_id__in=pledge_ids, status=CardSetup.Status.SUCCEEDED
        ).values_list("pledge_id", flat=True)
    )
    ensure_donors({p.supporter_id for p in pledges.values()})
    any_pledge = next(iter(pledges.values()), None)
    signed = signed_candidate_ids(any_pledge.slate) if any_pledge is not None else []
    return ReleaseContext(
        slate_id=slate_id, signed_ids=signed, pledges=pledges, required_ids=required,
        weights=weights, open_payments=open_payments, with_card=with_card,
        capture=capture_context(pledge_ids=pledge_ids, candidate_ids=signed),
    )  # fmt: skip


def release_pledge(*, pledge_id: int, context: ReleaseContext | None = None) -> str:
    """Settle one pledge of a releasing slate: void it (no card, or its own conditions
    failed), capture its hold, or charge its saved card. Safe to run again at any point.
    ``context``: the chunk's shared reads (``release_context``), if it covers this pledge."""
    if context is not None and pledge_id not in context.pledges:
        context = None
    if context is None:
        pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
        required_ids = None
        payment = _open_payment(pledge)
    else:
        pledge = context.pledges[pledge_id]
        required_ids = context.required_ids.get(pledge_id, set())
        payment = context.open_payments.get(pledge_id)
    if pledge.kind != PledgeKind.MONEY or pledge.state not in UNSETTLED_AT_RELEASE:
        return pledge.state
    if pledge.state == PledgeState.PENDING_CARD:
        return void_pledge(pledge_id=pledge_id, reason="no card was saved before the lock").state
    if not conditions_hold(pledge, signed_candidate_ids(pledge.slate), required_ids):
        return void_pledge(
            pledge_id=pledge_id, reason="the pledge's own conditions were not met"
        ).state
    try:
        if pledge.state == PledgeState.AUTHORIZED and payment is not None:
            try:
                return capture_payment(
                    payment_id=payment.pk, pledge_id=pledge_id, context=context
                ).status
            except NothingCapturable:
                raise
            except EscrowError as exc:
                logger.info("pledge %s not captured: %s", pledge_id, exc.message)
                return pledge.state
        if pledge.state == PledgeState.COMMITTED:
            has_card = (
                pledge.card_setups.filter(status=CardSetup.Status.SUCCEEDED).exists()
                if context is None
                else pledge_id in context.with_card
            )
            if not has_card:
                return void_pledge(pledge_id=pledge_id, reason="no saved card at the lock").state
            payment = authorize_pledge(
                pledge_id=pledge_id, purpose=Payment.Purpose.CHARGE, context=context
            )
            return payment.status if payment else pledge.state
    except NothingCapturable as exc:
        return void_pledge(pledge_id=pledge_id, reason=exc.message).state
    return pledge.state


def release_chunk_bounds(*, slate_id: int, size: int) -> list[tuple[int, int]]:
    """Split the pledges a release still has to settle into ``(after, upto]`` id ranges of at
    most ``size`` pledges, one release task each. The ids stream from the database (a million
    pledges are a few megabytes once per release, next to a million Stripe requests)."""
    ends: list[int] = []
    last = None
    ids = _unsettled_money_pledges(slate_id).order_by("pk").values_list("pk", flat=True)
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
    pledges = _unsettled_money_pledges(slate_id).filter(pk__gt=after_pledge_id)
    if upto_pledge_id is not None:
        pledges = pledges.filter(pk__lte=upto_pledge_id)
    return list(pledges.order_by("pk").values_list("pk", flat=True)[:limit])


def _unsettled_money_pledges(slate_id: int):
    return Pledge.objects.filter(
        slate_id=slate_id, kind=PledgeKind.MONEY, state__in=UNSETTLED_AT_RELEASE
    )


def release_walk_finished(*, slate_id: int) -> bool:
    """Every pledge the release can settle by itself is settled: what is left waits for its
    supporter (``needs_action``). Then the captured money can be paid out."""
    waiting_for_us = (
        _unsettled_money_pledges(slate_id).exclude(state=PledgeState.NEEDS_ACTION).exists()
    )
    return not waiting_for_us and not _payments_in_flight(slate_id)


def _payments_in_flight(slate_id: int) -> bool:
    """A Stripe step of one of the slate's payments was sent and its outcome not recorded."""
    return Payment.objects.filter(pledge__slate_id=slate_id, status__in=Payment.IN_FLIGHT).exists()


def finish_release_if_done(*, slate_id: int) -> bool:
    """``releasing -> released`` once every money pledge is final and nothing is in flight."""
    with transaction.atomic():
        slate = slate_services.lock_slate(slate_id)
        if slate.state != SlateState.RELEASING:
            return slate.state == SlateState.RELEASED
        if _unsettled_money_pledges(slate_id).exists() or _payments_in_flight(slate_id):
            return False
        slate_services.transition_slate(
            slate=slate, to_state=SlateState.RELEASED, actor=None, reason="every pledge settled"
        )
    return True


GRACE_ENDED = "the card still needed the supporter when the grace period ended"


def fail_overdue_needs_action(*, now=None) -> int:
    """After the grace period a pledge that still needs its supporter fails. Its payment is
    cancelled at Stripe first (marked ``canceling``, so the sweeper finishes if we die), so a
    3-D Secure page still open can no longer charge the card; Stripe's answer moves the
    pledge to ``failed``, or to ``captured`` if the supporter paid a moment before. A payment
    still being made (a new card's charge) is looked for at Stripe and cancelled the same
    way. Returns how many pledges failed."""
    now = now or timezone.now()
    grace = timedelta(days=settings.SLATE_NEEDS_ACTION_GRACE_DAYS)
    overdue = dict(
        Pledge.objects.filter(
            state=PledgeState.NEEDS_ACTION,
            state_changed_at__lte=now - grace,
            slate__state=SlateState.RELEASING,
        ).values_list("pk", "slate_id")
    )
    failed = 0
    for pledge_id in overdue:
        pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
        payment = _open_payment(pledge)
        if payment is not None:
            try:
                payment = cancel_payment(
                    payment_id=payment.pk, purpose=CancelPurpose.FAIL, reason=GRACE_ENDED
                )
            except (EscrowError, stripe_gateway.GatewayError) as exc:
                logger.warning("pledge %s not failed in this pass: %s", pledge_id, exc)
                continue
            pledge.refresh_from_db()
            if payment.status in Payment.OPEN:
                # Stripe has not confirmed the cancel yet (or a create may still land):
                # the sweeper finishes it, and Stripe's answer decides the pledge.
                continue
        if pledge.state == PledgeState.FAILED:
            failed += 1
            continue
        try:
            pledge_services.transition_pledge(
                pledge=pledge, to_state=PledgeState.FAILED, reason=GRACE_ENDED,
                expected_states=[PledgeState.NEEDS_ACTION],
            )  # fmt: skip
            failed += 1
        except pledge_services.PledgeError:
            continue
    for slate_id in set(overdue.values()):
        finish_release_if_done(slate_id=slate_id)
    return failed


# --- Holds before the lock ----------------------------------------------------------------------
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


def renew_hold(*, payment_id: int) -> Payment | None:
    """Let a hold about to lapse go and place a fresh one (a new attempt, a new key)."""
    payment = cancel_payment(payment_id=payment_id, purpose=CancelPurpose.DROP)
    if payment.status != Payment.Status.CANCELED:
        return payment
    return authorize_pledge(pledge_id=payment.pledge_id)


# --- The supporter completes a payment that needs them -------------------------------------------


def payment_needing_supporter(*, pledge: Pledge, actor) -> Payment:
    """The payment whose client secret the completion page hands to Stripe.js."""
    if not actor.is_authenticated or actor.pk != pledge.supporter_id:
        raise EscrowError("forbidden", "Only the supporter completes their payment.")
    payment = pledge.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()
    if pledge.state != PledgeState.NEEDS_ACTION or payment is None:
        raise EscrowError("nothing_to_complete", "This pledge does not need you right now.")
    return payment


def refresh_payment(*, payment_id: int) -> Payment:
    """After Stripe.js returns (or a webhook arrives): record the PaymentIntent as it is now.
    A completed hold is captured at once when its slate is already releasing."""
    payment = Payment.objects.select_related("pledge__slate").get(pk=payment_id)
    result = stripe_gateway.retrieve_payment_intent(payment.payment_intent_id)
    payment = record_payment_intent(payment_id=payment_id, result=result)
    if (
        payment.status == Payment.Status.REQUIRES_CAPTURE
        and payment.pledge.slate.state == SlateState.RELEASING
    ):
        try:
            payment = capture_payment(payment_id=payment_id)
        except NothingCapturable as exc:
            # As the release does: the donor's limits leave nothing to take, so the hold
            # the supporter just completed is let go and the pledge is voided.
            void_pledge(pledge_id=payment.pledge_id, reason=exc.message)
            payment.refresh_from_db()
    return payment


def retry_with_new_card(*, pledge_id: int) -> Payment | None:
    """The supporter saved another card after a decline: drop the failed payment and pay with
    the new card (a charge once the slate has locked, a hold before)."""
    pledge = Pledge.objects.select_related("slate").get(pk=pledge_id)
    if pledge.state != PledgeState.NEEDS_ACTION:
        return _open_payment(pledge)
    failed = pledge.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()
    if failed is not None:
        cancel_payment(payment_id=failed.pk, purpose=CancelPurpose.REPLACE)
    locked = pledge.slate.state in (SlateState.LOCKED, SlateState.RELEASING)
    try:
        return authorize_pledge(
            pledge_id=pledge_id,
            purpose=Payment.Purpose.CHARGE if locked else Payment.Purpose.HOLD,
            from_states=(PledgeState.NEEDS_ACTION,),
        )
    except NothingCapturable as exc:
        void_pledge(pledge_id=pledge_id, reason=exc.message)
        return None


# --- Forgetting saved cards ----------------------------------------------------------------------


def _cards_to_forget(user_ids):
    return CardSetup.objects.filter(
        pledge__supporter_id__in=user_ids,
        status=CardSetup.Status.SUCCEEDED,
        forgotten_at__isnull=True,
    ).exclude(payment_method_id="")


def _already_detached(error: stripe_gateway.GatewayError) -> bool:
    """Stripe refuses to detach a card that is gone or no longer attached: that is done."""
    return error.http_status == 404 or (
        error.http_status == 400 and "not attached" in error.message.lower()
    )


def forget_saved_cards(*, user_id: int) -> int:
    """Detach every card ``user_id`` saved with us from their Stripe customer, so it can
    never be charged again, and mark the card setups forgotten. Cards that an unsettled
    pledge may still charge are kept. Returns how many cards were detached; safe to run again
    (a run after a crash detaches what is left, with the same idempotency keys)."""
    setups = _cards_to_forget([user_id])
    needed = set(
        setups.filter(pledge__state__in=UNSETTLED_MONEY_STATES).values_list(
            "payment_method_id", flat=True
        )
    )
    by_method: dict[str, list[int]] = defaultdict(list)
    for setup_id, method_id in setups.values_list("pk", "payment_method_id").order_by("pk"):
        if method_id not in needed:
            by_method[method_id].append(setup_id)
    for method_id, setup_ids in by_method.items():
        try:
            stripe_gateway.detach_payment_method(
                payment_method_id=method_id, idempotency_key=f"card-setup-{setup_ids[0]}-detach"
            )
        except stripe_gateway.GatewayError as exc:
            if not _already_detached(exc):
                raise
        CardSetup.objects.filter(pk__in=setup_ids, forgotten_at__isnull=True).update(
            forgotten_at=timezone.now()
        )
    return len(by_method)


def user_ids_with_cards_to_forget(*, deleted_before) -> list[int]:
    """Supporters whose data was deleted (before ``deleted_before``) but whose saved cards
    are still attached: a lost task left them; the sweeper finishes."""
    from compliance.models import DeletionRequest

    deleted = DeletionRequest.objects.filter(completed_at__lte=deleted_before).values("user_id")
    return list(
        _cards_to_forget(deleted)
        .values_list("pledge__supporter_id", flat=True)
        .distinct()
        .order_by("pledge__supporter_id")
    )


# --- Stripe fees ---------------------------------------------------------------------------------


def payment_ids_with_unbooked_fees(*, limit: int = 500) -> list[int]:
    return list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, captured_cents__gt=0, fee_cents__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def book_stripe_fee(*, payment_id: int) -> int | None:
    """Ask Stripe what it kept of a captured payment and book it once (``stripe_fees``
    debited, ``platform_clearing`` credited: the cash that never reached us). The platform
    bears the fee; candidates are still owed the whole capture. Returns the fee, or None
    while Stripe has not settled the charge (the next run asks again). Safe to run twice:
    the payment row's lock and the ledger key each stop a second booking."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.SUCCEEDED or payment.fee_cents is not None:
        return payment.fee_cents
    fee = stripe_gateway.retrieve_charge_fee(payment.payment_intent_id)
    if fee is None:
        return None
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("pledge")
            .get(pk=payment_id)
        )
        if payment.fee_cents is not None:
            return payment.fee_cents
        payment.fee_cents = fee
        payment.save(update_fields=["fee_cents", "updated_at"])
        post(
            key=payment.idempotency_key("fee"), kind="fee", slate_id=payment.pledge.slate_id,
            pledge_id=payment.pledge_id, payment_id=payment.pk,
            postings=[Posting(A.STRIPE_FEES, fee), Posting(A.PLATFORM_CLEARING, -fee)],
        )  # fmt: skip
    return fee


# --- Disputes ------------------------------------------------------------------------------------

# Inquiries (``warning_*``) withdraw nothing; a real dispute withdraws its amount at once.
DISPUTE_INQUIRY_PREFIX = "warning_"


def record_dispute(*, dispute: dict) -> tuple[Payment | None, bool]:
    """Book a Stripe dispute from the facts of a ``charge.dispute.*`` event (``id``,
    ``payment_intent_id``, ``status``, ``amount_cents``: see ``stripe_gateway.dispute_facts``).
    Opened: the payment is flagged and Stripe's withdrawal is booked (``disputes`` debited,
    ``platform_clearing`` credited). Won: reversed, the money came back. Lost: it stays in
    ``disputes``, a loss the platform bears (candidates keep what they were owed). Events may
    come twice or out of order (a ``closed`` before its ``created``): each step is keyed and
    books once. Returns (payment, newly disputed) — None when the charge is not ours."""
    if not dispute["payment_intent_id"]:
        # A charge made without a PaymentIntent is not ours; and NULL must not match the
        # payments whose create has not answered yet (their payment_intent_id is NULL too).
        return None, False
    payment_id = (
        Payment.objects.filter(payment_intent_id=dispute["payment_intent_id"])
        .values_list("pk", flat=True)
        .first()
    )
    if payment_id is None:
        return None, False
    status, amount = dispute["status"], dispute["amount_cents"]
    with transaction.atomic():
        pledge, payment = _lock_payment(payment_id)
        newly_disputed = not payment.disputed
        if payment.dispute_status in ("won", "lost", "warning_closed"):
            return payment, False  # closed already: a late ``created`` or a replay
        payment.disputed = True
        payment.dispute_id = dispute["id"] or payment.dispute_id
        payment.dispute_status = status
        withdrawn = not status.startswith(DISPUTE_INQUIRY_PREFIX)
        if withdrawn:
            payment.disputed_cents = amount
            post(
                key=payment.idempotency_key("dispute"), kind="dispute", slate_id=pledge.slate_id,
                pledge_id=pledge.pk, payment_id=payment.pk,
                postings=[Posting(A.DISPUTES, amount), Posting(A.PLATFORM_CLEARING, -amount)],
            )  # fmt: skip
        if status == "won":
            post(
                key=payment.idempotency_key("dispute-won"), kind="dispute_won",
                slate_id=pledge.slate_id, pledge_id=pledge.pk, payment_id=payment.pk,
                postings=[Posting(A.PLATFORM_CLEARING, amount), Posting(A.DISPUTES, -amount)],
            )  # fmt: skip
            payment.disputed_cents = 0
        payment.save(
            update_fields=[
                "disputed",
                "dispute_id",
                "dispute_status",
                "disputed_cents",
                "updated_at",
            ]
        )
    return payment, newly_disputed
