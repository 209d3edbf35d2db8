"""What we keep of a Stripe event: what the books need, and nobody's name.

An event carries a snapshot of its object, and the snapshot of a charge, a customer or a
payment method names the person who paid (billing name, email, address, phone, card
details). The handlers never need it: they ask Stripe for the object's current state, and
the books are our own rows. So once an event is processed its stored payload is reduced to
``books_view`` (ids, amounts, currency, statuses, our own ids in the metadata), and deleting a
person's data reduces their events that are not processed yet as well: ``books_view`` keeps
every field a handler reads (escrow/webhooks.py), so those can still be processed.
"""

from django.db.models import Q

from .models import CardSetup, Payment, StripeCustomer, WebhookEvent

EVENT_FIELDS = ("id", "object", "type", "created", "livemode", "api_version")
OBJECT_FIELDS = (
    "id", "object", "status", "amount", "amount_capturable", "amount_received",
    "amount_captured", "amount_refunded", "currency", "payment_intent", "setup_intent",
    "charge", "reason", "created", "captured", "refunded", "paid", "livemode",
)  # fmt: skip
# Our own ids, which Slate puts in the metadata of what it creates at Stripe.
METADATA_FIELDS = ("pledge_id", "payment_id", "refund_id", "slate_id", "payout_id")
REDUCED_MARK = "slate_reduced"


def _plain(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def books_view(payload: dict) -> dict:
    """The event without its snapshot's personal fields; reducing twice changes nothing."""
    payload = payload or {}
    obj = (payload.get("data") or {}).get("object") or {}
    kept = {}
    for name in OBJECT_FIELDS:
        value = obj.get(name)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            value = value["id"]  # an expanded object (payment_intent, charge): its id
        if name in obj and _plain(value):
            kept[name] = value
    metadata = obj.get("metadata") or {}
    if isinstance(metadata, dict):
        ours = {k: metadata[k] for k in METADATA_FIELDS if k in metadata and _plain(metadata[k])}
        if ours:
            kept["metadata"] = ours
    due_by = (obj.get("evidence_details") or {}).get("due_by")  # a dispute's deadline
    if _plain(due_by) and due_by is not None:
        kept["evidence_details"] = {"due_by": due_by}
    event = {name: payload[name] for name in EVENT_FIELDS if name in payload}
    return {**event, "data": {"object": kept}, REDUCED_MARK: True}


def forget_person_in_events(*, user) -> int:
    """Reduce every stored event about ``user``'s customer, cards or payments that still holds
    its whole snapshot (processed ones were reduced already). Returns how many were reduced."""
    customers = list(StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True))
    setups = list(
        CardSetup.objects.filter(pledge__supporter=user).values_list("setup_intent_id", flat=True)
    )
    intents = list(
        Payment.objects.filter(pledge__supporter=user, payment_intent_id__isnull=False)
        .values_list("payment_intent_id", flat=True)
    )  # fmt: skip
    ids = customers + setups + intents
    if not ids:
        return 0
    about_user = (
        Q(payload__data__object__id__in=ids)
        | Q(payload__data__object__customer__in=customers)
        | Q(payload__data__object__payment_intent__in=intents)
        | Q(payload__data__object__setup_intent__in=setups)
    )
    reduced = 0
    for row in WebhookEvent.objects.select_for_update().filter(about_user):
        if row.payload.get(REDUCED_MARK):
            continue
        row.payload = books_view(row.payload)
        row.save(update_fields=["payload"])
        reduced += 1
    return reduced
