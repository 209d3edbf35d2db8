"""The api app's answers to slate, signature and pledge events: outbound webhooks.

Each runs inside the transaction that announced the event and only records deliveries (sent
after commit), so a rolled-back change sends nothing and an event announced twice (slate
events are at-least-once) is delivered once.
"""

from django.dispatch import receiver

from candidates.models import Signature
from pledges.models import Pledge
from slate.events import pledge_counted, signature_changed, slate_locked, slate_released
from slate.selectors import slate_counts

from . import webhooks


def _totals(slate_id: int) -> dict:
    counts = slate_counts(slate_id)
    return {
        "money_pledged_cents": counts.money_pledged_cents,
        "volunteer_hours": counts.volunteer_hours,
        "signon_count": counts.signon_count,
        "supporter_count": counts.supporter_count,
    }


@receiver(pledge_counted, dispatch_uid="api.webhooks.pledge_counted")
def pledge_was_counted(sender, pledge_id: int, slate_id: int, **kwargs) -> None:
    if not webhooks.slate_has_endpoints(slate_id):
        return
    pledge = Pledge.objects.select_related("referred_by").get(pk=pledge_id)
    webhooks.record_event(
        slate_id=slate_id,
        event_type="pledge.counted",
        event_key=f"pledge-{pledge_id}-counted",
        data={
            # What was pledged, never who pledged.
            "pledge": {
                "id": pledge.pk,
                "kind": pledge.kind,
                "amount_cents": pledge.amount_cents,
                "currency": pledge.currency,
                "hours": pledge.hours,
                "referred_by": pledge.referred_by.slug if pledge.referred_by else None,
            },
            "totals": _totals(slate_id),
        },
    )


@receiver(signature_changed, dispatch_uid="api.webhooks.signature_changed")
def signature_changed_on_slate(
    sender, signature_id: int, slate_id: int, signed: bool, **kwargs
) -> None:
    if not webhooks.slate_has_endpoints(slate_id):
        return
    signature = Signature.objects.select_related("candidate", "agreement_version", "slate").get(
        pk=signature_id
    )
    webhooks.record_event(
        slate_id=slate_id,
        event_type="signature.signed" if signed else "signature.withdrawn",
        event_key=f"signature-{signature_id}-{'signed' if signed else 'withdrawn'}",
        data={
            "candidate": {
                "id": signature.candidate_id,
                "full_name": signature.candidate.full_name,
            },
            "agreement_version": signature.agreement_version.number,
            "signed_candidates": signature.slate.signed_candidate_count,
            "needed": signature.slate.threshold_min_signatures,
        },
    )


def _slate_transition(event_type: str, slate_id: int, transition_id: int) -> None:
    if not webhooks.slate_has_endpoints(slate_id):
        return
    webhooks.record_event(
        slate_id=slate_id,
        event_type=event_type,
        event_key=f"slate-transition-{transition_id}",
        data={"transition_id": transition_id, "totals": _totals(slate_id)},
    )


@receiver(slate_locked, dispatch_uid="api.webhooks.slate_locked")
def slate_was_locked(sender, slate_id: int, transition_id: int, **kwargs) -> None:
    _slate_transition("slate.locked", slate_id, transition_id)


@receiver(slate_released, dispatch_uid="api.webhooks.slate_released")
def slate_was_released(sender, slate_id: int, transition_id: int, **kwargs) -> None:
    _slate_transition("slate.released", slate_id, transition_id)
