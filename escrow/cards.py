"""Stripe customers and saved cards: intake through a SetupIntent, a replacement card, and
forgetting a supporter's cards when their data is deleted."""

import logging
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import UNSETTLED_MONEY_STATES, PledgeKind, PledgeState
from slate.states import SlateState

from . import stripe_gateway
from .errors import EscrowError
from .holds import authorize_pledge, cancel_payment, card_for
from .locks import lock_pledge
from .models import CardSetup, Payment, StripeCustomer
from .needs_action import retry_with_new_card
from .payments import CancelPurpose
from .selectors import cards_to_forget, open_payment

logger = logging.getLogger(__name__)


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
    # A pledge has a card setup or a few: one read finds the pending one and numbers the next.
    setups = list(pledge.card_setups.order_by("pk"))
    existing = next((s for s in setups if s.status == CardSetup.Status.PENDING), None)
    if existing is not None:
        return existing
    customer = ensure_customer(actor)  # the supporter (checked above), already loaded
    number = len(setups) + 1
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
        # Only the card setup's row is locked here (the pledge's slate id, which never
        # changes, comes along so that locking the pledge next needs no lookup).
        card_setup = (
            CardSetup.objects.select_for_update(of=("self",))
            .annotate(pledge_slate_id=F("pledge__slate_id"))
            .get(setup_intent_id=setup_intent_id)
        )
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
        pledge = lock_pledge(card_setup.pledge_id, card_setup.pledge_slate_id)
        if pledge.state == PledgeState.PENDING_CARD:
            try:
                # Both locks are held: committed without taking them again.
                pledge = pledge_services.commit_locked_money_pledge(
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
    # there. A card already used by a payment has been acted on: nothing more to do. Only a
    # pledge needing a card or holding one has a next step (a first card commits the pledge,
    # and that is all): the others need no look at the payments.
    if pledge.state not in (PledgeState.NEEDS_ACTION, PledgeState.AUTHORIZED):
        return card_setup
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
    payment = open_payment(pledge)
    newest = card_for(pledge)
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
    setups = cards_to_forget([user_id])
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
