"""Row locks for money steps, always in one order: slate (shared), pledge, payment."""

from django.db import connection

from pledges.models import Pledge
from slate import services as slate_services
from slate.models import Slate

from .models import Payment

PLEDGES = Pledge._meta.db_table
PAYMENTS = Payment._meta.db_table


def _lock_slate_through(select: str, tables: str, row: str, row_id: int) -> tuple | None:
    """Read ``select`` from ``tables`` (joined to their pledge ``p``) where ``row`` is
    ``row_id``, and take the pledge's slate's shared lock in the same round trip: the lock
    ``slate.services.lock_slate_shared`` takes (``share_lock_clause``), on the slate row alone.
    None if there is no such row. A pledge's slate and a payment's pledge never change, so
    finding them first needs no lock of its own."""
    # Table names are the models' own constants; the id is a bound parameter.
    sql = (
        f"SELECT {select} FROM {tables} JOIN {Slate._meta.db_table} s ON s.id = p.slate_id "  # noqa: S608
        f"WHERE {row} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql + slate_services.share_lock_clause("s"), [row_id])
        return cursor.fetchone()


def _lock_pledge_row(pledge_id: int) -> Pledge:
    return Pledge.objects.select_for_update(of=("self",)).select_related("slate").get(pk=pledge_id)


def lock_pledge(pledge_id: int, slate_id: int | None = None) -> Pledge:
    """Slate (shared) then pledge: the same order as pledges.services.transition_pledge.
    Without ``slate_id``, the slate is found through the pledge by the query that locks it."""
    if slate_id is None:
        if _lock_slate_through("p.slate_id", f"{PLEDGES} p", "p.id", pledge_id) is None:
            raise Pledge.DoesNotExist(f"Pledge {pledge_id} does not exist.")
    else:
        slate_services.lock_slate_shared(slate_id)
    return _lock_pledge_row(pledge_id)


def lock_payment(
    payment_id: int, *, pledge_id: int | None = None, slate_id: int | None = None
) -> tuple[Pledge, Payment]:
    """Slate (shared), pledge, then payment. ``pledge_id`` and ``slate_id``, when the caller
    knows them (they never change for a payment), are not looked up; without them, they are
    found by the query that locks the slate."""
    if pledge_id is None or slate_id is None:
        found = _lock_slate_through(
            "x.pledge_id", f"{PAYMENTS} x JOIN {PLEDGES} p ON p.id = x.pledge_id", "x.id",
            payment_id,
        )  # fmt: skip
        if found is None:
            raise Payment.DoesNotExist(f"Payment {payment_id} does not exist.")
        pledge_id = found[0]
    else:
        slate_services.lock_slate_shared(slate_id)
    pledge = _lock_pledge_row(pledge_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.pledge = pledge  # the locked row, so ``payment.pledge`` costs no further query
    return pledge, payment
