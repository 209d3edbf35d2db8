"""``escrow.ledger.post``, the only writer of the books: balanced or refused, once per key,
and a reversal only of what was booked."""

import pytest

from escrow.ledger import Posting, UnbalancedTransaction, post
from escrow.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.factories import make_open_slate

pytestmark = pytest.mark.django_db
A = LedgerAccount


@pytest.fixture
def slate():
    return make_open_slate(candidates=1, min_signatures=1)


def hold(slate, key: str, cents: int = 700):
    return post(
        key=key, kind="hold", slate_id=slate.pk,
        postings=[Posting(A.SUPPORTER_HOLDS, cents), Posting(A.HOLDS_OUTSTANDING, -cents)],
    )  # fmt: skip


def release(slate, key: str, after_key: str, cents: int = 700):
    return post(
        key=key, kind="hold_release", slate_id=slate.pk, after_key=after_key,
        postings=[Posting(A.SUPPORTER_HOLDS, -cents), Posting(A.HOLDS_OUTSTANDING, cents)],
    )  # fmt: skip


def test_a_key_is_posted_once(slate):
    first = hold(slate, "k-hold")
    assert first is not None and LedgerTransaction.objects.get(key="k-hold").pk == first.pk
    assert hold(slate, "k-hold") is None
    assert LedgerEntry.objects.filter(transaction__key="k-hold").count() == 2


def test_a_reversal_is_posted_only_after_what_it_reverses(slate):
    assert release(slate, "k-release", after_key="k-hold") is None  # nothing was held
    assert not LedgerTransaction.objects.filter(key="k-release").exists()

    hold(slate, "k-hold")
    reversed_once = release(slate, "k-release", after_key="k-hold")
    assert reversed_once is not None
    assert release(slate, "k-release", after_key="k-hold") is None  # and only once
    entries = LedgerEntry.objects.filter(transaction__key__in=["k-hold", "k-release"])
    assert sum(entries.values_list("amount_cents", flat=True)) == 0
    assert entries.filter(account=A.SUPPORTER_HOLDS).count() == 2


@pytest.mark.parametrize(
    "postings",
    [
        [Posting(A.SUPPORTER_HOLDS, 700), Posting(A.HOLDS_OUTSTANDING, -600)],
        [Posting(A.SUPPORTER_HOLDS, 7.5), Posting(A.HOLDS_OUTSTANDING, -7.5)],
        [Posting("no_such_account", 700), Posting(A.HOLDS_OUTSTANDING, -700)],
    ],
    ids=["unbalanced", "not-whole-cents", "unknown-account"],
)
def test_bad_postings_are_refused_and_write_nothing(slate, postings):
    with pytest.raises(UnbalancedTransaction):
        post(key="k-bad", kind="hold", slate_id=slate.pk, postings=postings)
    assert not LedgerTransaction.objects.filter(key="k-bad").exists()
