"""The contribution report of one candidate committee, in the column layout of FEC Schedule A
(line 11(a)(i) itemized individual contributions), plus the unitemized total (11(a)(ii)).

A contribution is each capture credited to the candidate (net of refunds of it), dated by
the capture. Its aggregate is the donor's election-cycle-to-date total to this candidate
(the figure Form 3 asks for), over every slate and every account merged into the donor. A
contribution is itemized when that aggregate passes the cycle's itemization threshold.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from candidates.models import Candidate
from slate.csv_cells import safe_cell, usd
from slate.models import Slate

from .contributions import contributions
from .models import Donor
from .rules import RuleBook

COLUMNS = (
    "FORM TYPE", "FILER COMMITTEE ID NUMBER", "TRANSACTION ID", "BACK REFERENCE TRAN ID NUMBER",
    "BACK REFERENCE SCHED NAME", "ENTITY TYPE", "CONTRIBUTOR ORGANIZATION NAME",
    "CONTRIBUTOR LAST NAME", "CONTRIBUTOR FIRST NAME", "CONTRIBUTOR MIDDLE NAME",
    "CONTRIBUTOR PREFIX", "CONTRIBUTOR SUFFIX", "CONTRIBUTOR STREET 1", "CONTRIBUTOR STREET 2",
    "CONTRIBUTOR CITY", "CONTRIBUTOR STATE", "CONTRIBUTOR ZIP", "ELECTION CODE",
    "ELECTION OTHER DESCRIPTION", "CONTRIBUTION DATE", "CONTRIBUTION AMOUNT",
    "CONTRIBUTION AGGREGATE", "CONTRIBUTION PURPOSE DESCRIP", "CONTRIBUTOR EMPLOYER",
    "CONTRIBUTOR OCCUPATION", "MEMO CODE", "MEMO TEXT/DESCRIPTION",
)  # fmt: skip


def _dollars(cents: int) -> str:
    return usd(cents)


@dataclass
class ScheduleAReport:
    candidate: Candidate
    slate: Slate | None
    rows: list[dict[str, str]] = field(default_factory=list)
    itemized_cents: int = 0
    unitemized_cents: int = 0
    unitemized_count: int = 0
    donor_ids: set[int] = field(default_factory=set)

    def summary_row(self) -> dict[str, str]:
        return dict.fromkeys(COLUMNS, "") | {
            "FORM TYPE": "SA11AII",
            "FILER COMMITTEE ID NUMBER": self.candidate.fec_committee_id,
            "CONTRIBUTION AMOUNT": _dollars(self.unitemized_cents),
            "MEMO TEXT/DESCRIPTION": f"Unitemized individual contributions earmarked through "
            f"Slate: {self.unitemized_count}",
        }


def schedule_a(
    candidate: Candidate, *, slate: Slate | None = None, start: date | None = None,
    end: date | None = None,
) -> ScheduleAReport:  # fmt: skip
    """Rows for contributions to ``candidate`` (only through ``slate`` if given) received
    between ``start`` and ``end`` inclusive; aggregates count everything before them too."""
    report = ScheduleAReport(candidate=candidate, slate=slate)
    received = contributions(candidate_ids=[candidate.pk])
    user_ids = {c.supporter_id for c in received}
    donors = {d.user_id: d for d in Donor.objects.filter(user_id__in=user_ids)}
    roots = {d.pk: d for d in Donor.objects.filter(pk__in={d.root_id for d in donors.values()})}
    slate_names = dict(Slate.objects.filter(pk__in={c.slate_id for c in received}).values_list(
        "pk", "name"
    ))  # fmt: skip
    aggregates: dict[tuple[object, int], int] = defaultdict(int)  # (donor key, cycle) -> cents
    rules = RuleBook()  # one snapshot of the rules for every row, not queries per row
    for contribution in received:
        if not contribution.net_cents:
            continue
        day = timezone.localdate(contribution.received_at)
        cycle = rules.cycle_on(day)
        donor = donors.get(contribution.supporter_id)
        root = roots.get(donor.root_id) if donor else None
        key = root.pk if root else f"user-{contribution.supporter_id}"
        aggregates[(key, cycle.pk if cycle else 0)] += contribution.net_cents
        aggregate = aggregates[(key, cycle.pk if cycle else 0)]
        if slate is not None and contribution.slate_id != slate.pk:
            continue
        if (start and day < start) or (end and day > end):
            continue
        threshold = cycle.itemization_threshold_cents if cycle else 20_000
        if aggregate <= threshold:
            report.unitemized_cents += contribution.net_cents
            report.unitemized_count += 1
            continue
        election = rules.election_on(candidate.state, day, cycle)
        memo = f"Earmarked through Slate (conduit); slate: {slate_names[contribution.slate_id]}"
        if contribution.refunded_cents:
            memo += f"; net of a ${contribution.refunded_cents / 100:,.2f} refund"
        report.rows.append(
            dict.fromkeys(COLUMNS, "")
            | {
                "FORM TYPE": "SA11AI",
                "FILER COMMITTEE ID NUMBER": candidate.fec_committee_id,
                "TRANSACTION ID": f"SLATE-{contribution.pledge_id}-{candidate.pk}",
                "ENTITY TYPE": "IND",
                "CONTRIBUTOR LAST NAME": root.last_name if root else "",
                "CONTRIBUTOR FIRST NAME": root.first_name if root else "",
                "CONTRIBUTOR STREET 1": root.street_1 if root else "",
                "CONTRIBUTOR STREET 2": root.street_2 if root else "",
                "CONTRIBUTOR CITY": root.city if root else "",
                "CONTRIBUTOR STATE": root.state if root else "",
                "CONTRIBUTOR ZIP": root.zip_code if root else "",
                "ELECTION CODE": election.code if election else "",
                "CONTRIBUTION DATE": day.strftime("%Y%m%d"),
                "CONTRIBUTION AMOUNT": _dollars(contribution.net_cents),
                "CONTRIBUTION AGGREGATE": _dollars(aggregate),
                "CONTRIBUTOR EMPLOYER": root.employer if root else "",
                "CONTRIBUTOR OCCUPATION": root.occupation if root else "",
                "MEMO TEXT/DESCRIPTION": memo,
            }
        )
        report.itemized_cents += contribution.net_cents
        if root:
            report.donor_ids.add(root.pk)
    return report


def write_csv(report: ScheduleAReport, out) -> None:
    """Cells a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in [*report.rows, report.summary_row()]:
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
