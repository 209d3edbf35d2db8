"""A create whose answer was lost is looked for at Stripe before it is sent again (issue 14.10).

Stripe keeps an idempotency key for 24 hours only, and localstripe not at all: a sweeper that
re-sent such a create on its key alone would charge the supporter twice. It lists the
customer's PaymentIntents, matches the ids we put in their metadata, and adopts the intent.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from escrow import reconcile, release, stripe_gateway, sweeper, tasks
from escrow.models import OrphanCharge, Payment
from escrow.selectors import ledger_problems
from pledges.states import PledgeState
from tests.escrow.cards import pledge_with_card
from tests.escrow.test_unwanted_payments import (
    books_and_stripe_agree,
    create_reaches_stripe_unrecorded,
    payment_row_only,
    releasing_slate,
    start_releasing,
)
from tests.factories import User, make_staff

pytestmark = pytest.mark.django_db


def test_a_charge_whose_answer_was_lost_is_adopted_not_made_twice(localstripe, monkeypatch):
    slate = releasing_slate()
    pledge = pledge_with_card(slate, amount_cents=10_000)
    start_releasing(slate)
    payment = payment_row_only(monkeypatch, pledge, purpose=Payment.Purpose.CHARGE)
    made = create_reaches_stripe_unrecorded(payment)  # charged; the worker dies
    assert made.status == "succeeded"

    # A day and more later: Stripe has forgotten the idempotency key by now.
    sweeper.sweep(now=timezone.now() + timedelta(hours=25))

    payment.refresh_from_db()
    pledge.refresh_from_db()
    assert payment.payment_intent_id == made.id
    assert pledge.state == PledgeState.CAPTURED
    assert len(localstripe.payment_intents_for(pledge_id=pledge.pk)) == 1
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    books_and_stripe_agree(slate)


def test_a_create_that_never_reached_stripe_is_sent_again_once(localstripe, monkeypatch):
    slate = releasing_slate()
    pledge = pledge_with_card(slate, amount_cents=2_500)
    start_releasing(slate)
    payment_row_only(monkeypatch, pledge, purpose=Payment.Purpose.CHARGE)

    sweeper.sweep(now=timezone.now() + timedelta(hours=1))
    sweeper.sweep(now=timezone.now() + timedelta(hours=2))

    pledge.refresh_from_db()
    assert pledge.state == PledgeState.CAPTURED
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1
    books_and_stripe_agree(slate)


# --- Stripe's side: charges the books do not know ----------------------------------------------


def plant_orphan_charge(pledge, amount_cents: int = 7_700) -> stripe_gateway.PaymentIntentResult:
    """A charge of the pledge's supporter that no payment of ours knows (say a second charge
    made while our books were down), naming the pledge the way ours do."""
    card = pledge.card_setups.get()
    return stripe_gateway.charge_off_session(
        customer_id=card.customer.customer_id,
        payment_method_id=card.payment_method_id,
        amount_cents=amount_cents,
        currency="usd",
        idempotency_key=f"planted-orphan-{pledge.pk}",
        metadata={"pledge_id": pledge.pk},
    )


def refunder():
    staff = make_staff()
    staff.user_permissions.add(Permission.objects.get(codename="refund_orphancharge"))
    return User.objects.get(pk=staff.pk)  # a fresh object: permissions are cached


def test_reconcile_reports_a_charge_the_books_do_not_know_and_staff_refund_it(localstripe, capsys):
    slate = releasing_slate()
    pledge = pledge_with_card(slate, amount_cents=4_000)
    start_releasing(slate)
    release.release_pledge(pledge_id=pledge.pk)
    call_command("reconcile")  # sound books, nothing unknown at Stripe
    orphan_intent = plant_orphan_charge(pledge)
    capsys.readouterr()

    with pytest.raises(CommandError, match="1 difference"):
        call_command("reconcile")
    output = capsys.readouterr().out
    [orphan] = OrphanCharge.objects.all()
    assert orphan.payment_intent_id == orphan_intent.id and orphan.amount_cents == 7_700
    assert f"charge {orphan.charge_id} (PaymentIntent {orphan_intent.id}): 7700 cents taken" in (
        output
    )
    assert f"metadata names pledge {pledge.pk}, not on the books" in output
    with pytest.raises(CommandError):  # the slate's own reconcile names it too
        call_command("reconcile", slate=slate.slug)

    reconcile.refund_orphan(orphan_id=orphan.pk, actor=refunder())

    orphan.refresh_from_db()
    assert orphan.resolved_at is not None and orphan.resolution.startswith("refunded 7700")
    refunds = localstripe.list_all("/v1/refunds", charge=orphan.charge_id)
    assert sum(r["amount"] for r in refunds) == 7_700
    assert localstripe.count_captures_for(pledge_id=pledge.pk) == 2  # ours, and the orphan's
    call_command("reconcile")
    assert ledger_problems() == []


def test_the_nightly_reconciliation_tells_staff_of_an_orphan_charge(localstripe, settings):
    settings.ADMINS = [("Staff", "staff@slate.test")]
    slate = releasing_slate()
    pledge = pledge_with_card(slate, amount_cents=4_000)
    plant_orphan_charge(pledge, amount_cents=1_234)

    assert tasks.reconcile_with_stripe() == 1

    [email] = mail.outbox
    assert "1234 cents taken at Stripe" in email.body and "not on the books" in email.body


def test_only_staff_allowed_to_refund_orphan_charges_can(localstripe):
    slate = releasing_slate()
    pledge = pledge_with_card(slate)
    plant_orphan_charge(pledge)
    [orphan] = reconcile.find_orphan_charges(since=timezone.now() - timedelta(days=1))

    with pytest.raises(PermissionDenied):
        reconcile.refund_orphan(orphan_id=orphan.pk, actor=make_staff())

    orphan.refresh_from_db()
    assert orphan.resolved_at is None
    assert localstripe.list_all("/v1/refunds", charge=orphan.charge_id) == []


def test_an_orphan_refunded_in_the_stripe_dashboard_is_no_longer_reported(localstripe):
    slate = releasing_slate()
    pledge = pledge_with_card(slate)
    plant_orphan_charge(pledge, amount_cents=2_000)
    since = timezone.now() - timedelta(days=1)
    [orphan] = reconcile.find_orphan_charges(since=since)
    stripe_gateway.refund_charge(
        charge_id=orphan.charge_id, amount_cents=2_000, idempotency_key="dashboard", metadata={}
    )

    assert reconcile.find_orphan_charges(since=since) == []

    orphan.refresh_from_db()
    assert orphan.resolved_at is not None
    assert orphan.resolution == "settled at Stripe outside Slate"
