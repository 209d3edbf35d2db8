"""Writes to a slate's maintained totals: sharded counter rows, updated in the caller's
transaction (see slate/totals.py for the arithmetic and SlateCounterShard for why shards)."""

import random

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model

from .models import SlateBreakdownShard, SlateCounterShard
from .totals import BREAKDOWN_FIELDS, COUNTER_FIELDS, Breakdown, Counts


def _add(model: type[Model], lookup: dict, values: dict[str, int]) -> None:
    """Add ``values`` to the row ``lookup`` names, creating it if it does not exist yet.

    Creating on demand keeps every write counted even when a shard row is missing (a slate
    created while SLATE_COUNTER_SHARDS was smaller, or the first change in a slice).
    """
    increments = {name: F(name) + value for name, value in values.items()}
    if model.objects.filter(**lookup).update(**increments):
        return
    try:
        # A concurrent writer may insert the same row first; the savepoint keeps our
        # transaction usable and the update below then lands on its row.
        with transaction.atomic():
            model.objects.create(**lookup, **values)
    except IntegrityError:
        model.objects.filter(**lookup).update(**increments)


def _add_rows(model: type[Model], key_fields: list[str], rows: list[tuple[dict, dict]]) -> None:
    """``_add`` for many rows in one statement: INSERT ... ON CONFLICT (the rows' unique key)
    DO UPDATE adds the values to the row already there, atomically, whoever created it
    (PostgreSQL and SQLite both speak it). Rows are written in the order given."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    value_fields = list(rows[0][1])
    column = {name: quote(model._meta.get_field(name).column) for name in key_fields + value_fields}
    columns = [column[name] for name in key_fields + value_fields]
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sets = ", ".join(
        f"{column[name]} = {table}.{column[name]} + EXCLUDED.{column[name]}"
        for name in value_fields
    )
    # Table and column names from the model; the values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one_row] * len(rows))} "  # noqa: S608
        f"ON CONFLICT ({', '.join(column[name] for name in key_fields)}) DO UPDATE SET {sets}"
    )
    params = [
        value
        for lookup, values in rows
        for value in [lookup[name] for name in key_fields] + [values[name] for name in value_fields]
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def apply_counts_delta(*, slate_id: int, counts: Counts, breakdown: Breakdown) -> None:
    """Add one change to a random shard. Rows are touched in a fixed order (counters, then
    slices sorted) so that two transactions never wait on each other in opposite orders."""
    shard = random.randrange(settings.SLATE_COUNTER_SHARDS)
    changes = counts.nonzero_items()
    if changes:
        _add(SlateCounterShard, {"slate_id": slate_id, "shard": shard}, changes)
    # Every slice in one statement (one round trip instead of one or three per slice).
    _add_rows(
        SlateBreakdownShard,
        ["slate_id", "dimension", "key", "shard"],
        [
            (
                {"slate_id": slate_id, "dimension": dimension, "key": key, "shard": shard},
                {name: getattr(delta, name) for name in BREAKDOWN_FIELDS},
            )
            for (dimension, key), delta in sorted(breakdown.items())
        ],
    )


def replace_counts(*, slate_id: int, counts: Counts, breakdown: Breakdown) -> None:
    """Overwrite a slate's totals with a recount (drift repair). The caller holds the slate's
    exclusive lock, so no pledge writes in between."""
    SlateCounterShard.objects.filter(slate_id=slate_id).update(
        **{name: 0 for name in COUNTER_FIELDS}
    )
    _add(
        SlateCounterShard,
        {"slate_id": slate_id, "shard": 0},
        {name: getattr(counts, name) for name in COUNTER_FIELDS},
    )
    SlateBreakdownShard.objects.filter(slate_id=slate_id).delete()
    SlateBreakdownShard.objects.bulk_create(
        SlateBreakdownShard(
            slate_id=slate_id,
            dimension=dimension,
            key=key,
            shard=0,
            **{name: getattr(value, name) for name in BREAKDOWN_FIELDS},
        )
        for (dimension, key), value in breakdown.items()
    )
