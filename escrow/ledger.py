"""Posting to the double-entry ledger. The only writer of LedgerTransaction/LedgerEntry."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .models import LedgerAccount, LedgerEntry, LedgerTransaction


class UnbalancedTransaction(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    amount_cents: int  # debit positive, credit negative
    candidate_id: int | None = None


def post(
    *,
    key: str,
    kind: str,
    slate_id: int,
    postings: Sequence[Posting],
    pledge_id: int | None = None,
    payment_id: int | None = None,
    payout_id: int | None = None,
    memo: str = "",
    after_key: str | None = None,
) -> LedgerTransaction | None:
    """Write one balanced transaction inside the caller's transaction.

    ``key`` names the business step (``pledge-42-payment-1-capture``); a second post with the
    same key writes nothing and returns None, so a retried step never doubles the books.
    ``after_key``: post only if the transaction of that key was posted (a reversal of
    something that may never have been booked), checked in the same statement.
    """
    postings = [p for p in postings if p.amount_cents != 0]
    for posting in postings:
        if isinstance(posting.amount_cents, bool) or not isinstance(posting.amount_cents, int):
            raise UnbalancedTransaction(f"{key}: amounts are whole cents")
        if posting.account not in LedgerAccount.values:
            raise UnbalancedTransaction(f"{key}: unknown account {posting.account}")
    if sum(p.amount_cents for p in postings) != 0:
        raise UnbalancedTransaction(f"{key}: entries do not sum to zero")
    if not postings:
        return None
    ledger_transaction = _insert_unless_posted(
        after_key,
        key=key, kind=kind, slate_id=slate_id, pledge_id=pledge_id,
        payment_id=payment_id, payout_id=payout_id, memo=memo[:500], created_at=timezone.now(),
    )  # fmt: skip
    if ledger_transaction is None:
        return None  # posted before, or concurrently, under the same key
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            transaction=ledger_transaction,
            account=p.account,
            candidate_id=p.candidate_id,
            slate_id=slate_id,
            pledge_id=pledge_id,
            amount_cents=p.amount_cents,
        )
        for p in postings
    )
    return ledger_transaction


def _insert_unless_posted(after_key: str | None, **values) -> LedgerTransaction | None:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``: the first post of a key wins
    and a repeat inserts nothing, in one round trip, with no pre-check and no savepoint to
    catch the unique violation (the release posts twice for every pledge it captures).
    With ``after_key``, ``INSERT ... SELECT ... WHERE EXISTS (that key)``, still one round
    trip. PostgreSQL and SQLite (3.35+) both speak it (SQLite needs the WHERE to parse an
    upsert from a SELECT, which it has)."""
    fields = {name: LedgerTransaction._meta.get_field(name) for name in values}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields.values())
    parameters = [
        field.get_db_prep_save(values[name], connection=connection)
        for name, field in fields.items()
    ]
    table = connection.ops.quote_name(LedgerTransaction._meta.db_table)
    key_column = connection.ops.quote_name(LedgerTransaction._meta.get_field("key").column)
    placeholders = ", ".join(["%s"] * len(fields))
    # Table and column names come from the model, every value is a bound parameter.
    if after_key is None:
        source = f"VALUES ({placeholders})"
    else:
        source = (
            f"SELECT {placeholders} WHERE EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {table} WHERE {key_column} = %s)"
        )
        parameters.append(after_key)
    sql = (
        f"INSERT INTO {table} ({columns}) {source} "
        f"ON CONFLICT ({key_column}) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    if row is None:
        return None
    return LedgerTransaction(pk=row[0], **values)
