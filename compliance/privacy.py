"""A supporter's own data: everything we hold about them as JSON, and deletion on request.

Deletion anonymizes; it deletes no row that money or the books depend on. Pledges, payments,
refunds, ledger entries and the declarations stay (the ledger stays balanced and
``check_ledger`` passes). What a conduit must keep about contributors who gave — name,
address, employer, occupation, and the contributions themselves (52 U.S.C. 30102: records of
contributions kept 3 years) — is kept and marked ``retained_for_law``; everything else
personal (email, login, volunteer ZIP and availability, details of donors who never gave)
is wiped, and so are the person's details in stored Stripe events (escrow.event_payloads).
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escrow.event_payloads import forget_person_in_events
from escrow.holds import payment_stale_after
from escrow.models import Payment, Refund
from escrow.selectors import cards_to_forget
from pledges.models import Pledge, PledgeEvent, SignOnRequest
from pledges.states import UNSETTLED_MONEY_STATES, PledgeKind
from slate.queue import enqueue_named_on_commit, registered_task

from .contributions import contributions
from .errors import ComplianceError
from .models import DeletionRequest, Donor, DonorDataAccess, PledgeDeclaration
from .receipts import receipts_of

DONOR_FIELDS = (
    "first_name", "last_name", "street_1", "street_2", "city", "state", "zip_code", "employer",
    "occupation", "email",
)  # fmt: skip
KEPT_FOR_LAW = (
    "first_name", "last_name", "street_1", "street_2", "city", "state", "zip_code", "employer",
    "occupation",
)  # fmt: skip


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def supporter_data(user) -> dict:
    """Everything Slate holds about ``user`` that is theirs to see, as plain JSON values."""
    donor = Donor.objects.filter(user=user).first()
    pledges = Pledge.objects.filter(supporter=user).select_related("slate").order_by("pk")
    declarations = {d.pledge_id: d for d in PledgeDeclaration.objects.filter(pledge__in=pledges)}
    events = PledgeEvent.objects.filter(pledge__in=pledges).order_by("pk")
    payments = Payment.objects.filter(pledge__in=pledges).order_by("pk")
    refunds = Refund.objects.filter(payment__pledge__in=pledges).order_by("pk")
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "username": user.username, "email": user.email, "first_name": user.first_name,
            "last_name": user.last_name, "date_joined": _iso(user.date_joined),
        },
        "donor": None if donor is None else {
            **{name: getattr(donor, name) for name in DONOR_FIELDS},
            "anonymized_at": _iso(donor.anonymized_at), "retained_for_law": donor.retained_for_law,
        },
        "pledges": [
            {
                "id": p.pk, "slate": p.slate.name, "kind": p.kind, "state": p.state,
                "amount_cents": p.amount_cents, "captured_cents": p.captured_cents,
                "refunded_cents": p.refunded_cents, "currency": p.currency, "hours": p.hours,
                "activities": p.activities, "zip_code": p.zip_code,
                "availability": p.availability, "supporter_state": p.supporter_state,
                "created_at": _iso(p.created_at),
                "declaration": _declaration(declarations.get(p.pk)),
                "history": [
                    {"from": e.from_state, "to": e.to_state, "reason": e.reason,
                     "at": _iso(e.created_at)}
                    for e in events if e.pledge_id == p.pk
                ],
            }
            for p in pledges
        ],
        "payments": [
            {"pledge": p.pledge_id, "status": p.status, "amount_cents": p.amount_cents,
             "captured_cents": p.captured_cents, "refunded_cents": p.refunded_cents,
             "created_at": _iso(p.created_at)}
            for p in payments
        ],
        "refunds": [
            {"payment": r.payment_id, "amount_cents": r.amount_cents, "status": r.status,
             "reason": r.reason, "created_at": _iso(r.created_at)}
            for r in refunds
        ],
        "contributions": [
            {"pledge": c.pledge_id, "candidate": c.candidate_id, "received_at": _iso(c.received_at),
             "amount_cents": c.amount_cents, "refunded_cents": c.refunded_cents}
            for c in contributions(user_ids=[user.pk])
        ],
        "receipts": [
            {"number": r.number, "kind": r.kind, "at": _iso(r.at), "total_cents": r.total_cents,
             "lines": [{"committee": line.committee, "amount_cents": line.amount_cents}
                       for line in r.lines]}
            for r in receipts_of(user)
        ],
        "views_of_your_details": [
            {"what": a.what, "at": _iso(a.at), "detail": a.detail}
            for a in DonorDataAccess.objects.filter(donor=donor)
        ] if donor else [],
        "deletion_requests": [
            {"requested_at": _iso(d.requested_at), "completed_at": _iso(d.completed_at),
             "kept": d.kept}
            for d in DeletionRequest.objects.filter(user=user)
        ],
    }  # fmt: skip


def _declaration(declaration: PledgeDeclaration | None) -> dict | None:
    if declaration is None:
        return None
    return {
        "attested": declaration.attestation_text,
        "disclosed_conditions": declaration.disclosed_conditions,
        "allow_reallocation": declaration.allow_reallocation,
        "declared_at": _iso(declaration.declared_at),
    }


@transaction.atomic
def delete_personal_data(*, user, actor) -> DeletionRequest:
    """Anonymize ``user`` (on their own request, or staff acting on one). Refused while a
    money pledge is still unsettled: cancel it first, or wait for the release to settle it."""
    if not actor.is_authenticated or (actor.pk != user.pk and not actor.is_staff):
        raise ComplianceError("forbidden", "You can delete only your own data.")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if (
        not user.is_active
        and DeletionRequest.objects.filter(user=user, completed_at__isnull=False).exists()
    ):
        raise ComplianceError("already_deleted", "This account's data was already deleted.")
    unsettled = Pledge.objects.filter(
        supporter=user, kind=PledgeKind.MONEY, state__in=UNSETTLED_MONEY_STATES
    )
    if unsettled.exists():
        raise ComplianceError(
            "pledges_unsettled",
            "You still have money pledges that are not settled. Cancel them first (or, if "
            "their slate has locked, wait until they are charged or voided), then ask again.",
        )
    now = timezone.now()
    gave = any(c.amount_cents for c in contributions(user_ids=[user.pk]))
    kept = ""
    donor = Donor.objects.select_for_update().filter(user=user).first()
    if donor is not None:
        wipe = [name for name in DONOR_FIELDS if not (gave and name in KEPT_FOR_LAW)]
        for name in wipe:
            setattr(donor, name, "")
        donor.anonymized_at = now
        donor.retained_for_law = gave
        donor.save()
        if gave:
            kept = (
                "Contributor name, address, employer and occupation, and the record of each "
                "contribution, kept as the law requires of a conduit (52 U.S.C. 30102)."
            )
    Pledge.objects.filter(supporter=user, kind=PledgeKind.VOLUNTEER).update(
        zip_code="", availability=""
    )
    # Off the public roll; and the sign-ons made by email (name, address, ZIP) are forgotten
    # (a confirmed one's pledge stays, counted, under the anonymized account).
    Pledge.objects.filter(supporter=user).exclude(public_name="").update(public_name="")
    by_email = Q(pledge__supporter=user)
    if user.email:
        by_email |= Q(email__iexact=user.email)
    SignOnRequest.objects.filter(by_email).delete()
    _anonymize_account(user)
    # Stripe's events about their customer, cards and payments keep only the books' facts.
    forget_person_in_events(user=user)
    # Saved cards are detached from the Stripe customer once this commits
    # (``forget_cards_left_attached`` finishes it if that task is lost), so nothing can ever
    # charge them again.
    enqueue_named_on_commit("escrow.tasks.forget_saved_cards", user.pk)
    return DeletionRequest.objects.create(user=user, requested_at=now, completed_at=now, kept=kept)


def _anonymize_account(user) -> None:
    EmailAddress.objects.filter(user=user).delete()
    user.username = f"deleted-{user.pk}"
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


def forget_cards_left_attached(now=None) -> int:
    """Beat (every minute): queue the card detach again for supporters whose data was
    deleted a while ago (``escrow.holds.payment_stale_after``: the first task may still be on
    its way) but whose saved cards are still attached, because that task was lost. Returns
    how many supporters it queued."""
    cutoff = (now or timezone.now()) - payment_stale_after()
    deleted = DeletionRequest.objects.filter(completed_at__lte=cutoff).values("user_id")
    user_ids = list(
        cards_to_forget(deleted)
        .values_list("pledge__supporter_id", flat=True)
        .distinct()
        .order_by("pledge__supporter_id")
    )
    for user_id in user_ids:
        registered_task("escrow.tasks.forget_saved_cards").delay(user_id)
    return len(user_ids)
