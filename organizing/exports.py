"""CSV exports of a slate's pledges and volunteers, streamed row by row.

Only the slate's organizers reach these (see views); they carry donor details (name, email,
state, ZIP, and the compliance app's address, employer and occupation where the supporter gave
them), so nothing else in the app links to them. Cells that a spreadsheet would run as
a formula are quoted with a leading apostrophe.
"""

import csv
from collections.abc import Iterable, Iterator

from django.core.exceptions import ObjectDoesNotExist

from pledges.selectors import EXPORT_CHUNK, pledges_for_export
from pledges.states import PledgeKind
from slate.csv_cells import safe_cell, usd

PLEDGE_COLUMNS = (
    "pledge_id", "created_at", "kind", "state", "amount_usd", "captured_usd", "refunded_usd",
    "hours", "condition_min_signatures", "supporter_name", "supporter_email",
    "supporter_state", "zip_code", "referred_by", "donor_street_1", "donor_street_2",
    "donor_city", "donor_state", "donor_zip_code", "donor_employer", "donor_occupation",
)  # fmt: skip
DONOR_FIELDS = ("street_1", "street_2", "city", "state", "zip_code", "employer", "occupation")
VOLUNTEER_COLUMNS = (
    "pledge_id", "created_at", "state", "volunteer_name", "volunteer_email", "supporter_state",
    "zip_code", "hours", "activities", "availability", "referred_by",
)  # fmt: skip


def _name(user) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part)


def _donor_details(user) -> tuple[str, ...]:
    try:
        donor = user.donor  # compliance.Donor, when the supporter gave donor details
    except ObjectDoesNotExist:
        return ("",) * len(DONOR_FIELDS)
    return tuple(getattr(donor, name) for name in DONOR_FIELDS)


def pledge_rows(slate_id: int) -> Iterator[tuple]:
    pledges = pledges_for_export(slate_id).select_related("supporter__donor")
    for pledge in pledges.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            pledge.pk, pledge.created_at.isoformat(), pledge.kind, pledge.state,
            usd(pledge.amount_cents), usd(pledge.captured_cents), usd(pledge.refunded_cents),
            pledge.hours, pledge.condition_min_signatures or "", _name(pledge.supporter),
            pledge.supporter.email, pledge.supporter_state, pledge.zip_code,
            pledge.referred_by.name if pledge.referred_by else "",
            *_donor_details(pledge.supporter),
        )  # fmt: skip


def volunteer_rows(slate_id: int) -> Iterator[tuple]:
    volunteers = pledges_for_export(slate_id, kind=PledgeKind.VOLUNTEER)
    for pledge in volunteers.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            pledge.pk, pledge.created_at.isoformat(), pledge.state, _name(pledge.supporter),
            pledge.supporter.email, pledge.supporter_state, pledge.zip_code, pledge.hours,
            " ".join(pledge.activities or []), pledge.availability,
            pledge.referred_by.name if pledge.referred_by else "",
        )  # fmt: skip


class _Echo:
    """csv.writer wants a file; this one hands each written line straight back."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Iterable[str], rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
