from django.core.management.base import BaseCommand, CommandError

from escrow.selectors import ledger_problems
from slate.models import Slate


class Command(BaseCommand):
    help = (
        "Verify the ledger: balanced transactions, per-pledge captured = allocated + refunded, "
        "open holds match, no candidate paid more than owed, books match slate totals. "
        "Exits 1 with a report when anything is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slate", help="Only the slate with this slug.")

    def handle(self, *args, slate=None, **options):
        slate_id = None
        if slate:
            found = Slate.objects.filter(slug=slate).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No slate with slug {slate!r}.")
            slate_id = found
        problems = ledger_problems(slate_id)
        if problems:
            for problem in problems:
                self.stdout.write(f"  {problem}")
            raise CommandError(f"{len(problems)} ledger problem(s).")
        self.stdout.write("ledger ok")
