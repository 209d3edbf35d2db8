"""Writes to a slate's maintained totals: sharded counter rows, updated in the caller's
transaction (see slate/totals.py for the arithmetic and SlateCounterShard for why shards)."""

import random

from django.conf import settings
from django.db import IntegrityError, transaction
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


def apply_counts_delta(*, slate_id: int, counts: Counts, breakdown: Breakdown) -> None:
    """Add one change to a random shard. Rows are touched in a fixed order (counters, then
    slices sorted) so that two transactions never wait on each other in opposite orders."""
    shard = random.randrange(settings.SLATE_COUNTER_SHARDS)
    changes = counts.nonzero_items()
    if changes:
        _add(SlateCounterShard, {"slate_id": slate_id, "shard": shard}, changes)
    for (dimension, key), delta in sorted(breakdown.items()):
        _add(
            SlateBreakdownShard,
            {"slate_id": slate_id, "dimension": dimension, "key": key, "shard": shard},
            {name: getattr(delta, name) for name in BREAKDOWN_FIELDS},
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
