"""check_ledger and reconcile: quiet on sound books, loud and non-zero on broken ones."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from escrow import release
from escrow.models import LedgerEntry, Payment
from slate.models import Slate
from slate.states import SlateState
from tests.escrow.cards import pledge_with_card
from tests.factories import make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured_slate(localstripe):
    slate = make_open_slate(candidates=3, min_signatures=3)
    sign(slate_candidates(slate)[0], slate)
    pledges = [pledge_with_card(slate, amount_cents=1_500 + i) for i in range(3)]
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASING)
    for pledge in pledges:
        release.release_pledge(pledge_id=pledge.pk)
    return slate


def test_sound_books_pass_both_checks(captured_slate, capsys):
    call_command("check_ledger")
    call_command("reconcile", slate=captured_slate.slug)
    output = capsys.readouterr().out
    assert "ledger ok" in output
    assert f"{captured_slate.slug}: ok" in output


def test_check_ledger_reports_an_unbalanced_transaction(captured_slate, capsys):
    entry = LedgerEntry.objects.filter(account="platform_clearing").first()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount_cents=F("amount_cents") + 1)
    with pytest.raises(CommandError, match="ledger problem"):
        call_command("check_ledger", slate=captured_slate.slug)
    output = capsys.readouterr().out
    assert f"transaction {entry.transaction.key} sums to 1, not 0" in output


def test_check_ledger_reports_capture_without_allocation(captured_slate, capsys):
    payment = Payment.objects.filter(pledge__slate=captured_slate).first()
    LedgerEntry.objects.filter(
        transaction__key=payment.idempotency_key("capture"), account="candidate_payable"
    ).delete()
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert f"pledge {payment.pledge_id}: captured" in capsys.readouterr().out


def test_reconcile_reports_books_that_disagree_with_stripe(captured_slate, capsys):
    payment = Payment.objects.filter(pledge__slate=captured_slate).first()
    Payment.objects.filter(pk=payment.pk).update(captured_cents=F("captured_cents") - 1)
    with pytest.raises(CommandError, match="1 difference"):
        call_command("reconcile", slate=captured_slate.slug)
    assert f"payment {payment.pk}: captured" in capsys.readouterr().out


def test_reconcile_of_an_unknown_slate_is_a_clear_error():
    with pytest.raises(CommandError, match="No slate with slug 'nope'"):
        call_command("reconcile", slate="nope")
