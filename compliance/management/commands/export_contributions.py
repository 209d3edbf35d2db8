"""One candidate committee's contributions as Schedule A CSV (itemized rows, then the
unitemized total), to stdout or a file. Logged in the donor data audit log."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from candidates.models import Candidate
from compliance import export, services
from compliance.models import DonorDataAccess
from slate.models import Slate


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Export a candidate committee's contributions in FEC Schedule A column layout."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--candidate", type=int, help="candidate id")
        group.add_argument("--committee", help="FEC committee id, e.g. C00123456")
        parser.add_argument("--slate", help="only contributions through this slate (slug)")
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD")
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *args, **options):
        lookup = (
            {"pk": options["candidate"]}
            if options["candidate"] is not None
            else {"fec_committee_id": options["committee"].upper()}
        )
        candidate = Candidate.objects.filter(**lookup).first()
        if candidate is None:
            raise CommandError("No such candidate.")
        slate = None
        if options["slate"]:
            slate = Slate.objects.filter(slug=options["slate"]).first()
            if slate is None:
                raise CommandError(f"No slate {options['slate']!r}.")
        start, end = _day(options["start"]), _day(options["end"])
        if start and end and start > end:
            raise CommandError("--from is after --to.")
        report = export.schedule_a(candidate, slate=slate, start=start, end=end)
        services.record_donor_data_access(
            actor=None, what=DonorDataAccess.What.COMMAND, candidate=candidate, slate=slate,
            detail=f"manage.py export_contributions: {len(report.rows)} itemized rows",
        )  # fmt: skip
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                export.write_csv(report, out)
        else:
            export.write_csv(report, self.stdout)
        self.stderr.write(
            f"{candidate}: {len(report.rows)} itemized (${report.itemized_cents / 100:,.2f}), "
            f"{report.unitemized_count} unitemized (${report.unitemized_cents / 100:,.2f})"
        )
