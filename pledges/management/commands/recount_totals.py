from django.core.management.base import BaseCommand, CommandError

from pledges import selectors, services
from slate.models import Slate


class Command(BaseCommand):
    help = (
        "Recount every slate's totals from its pledges and signatures and report any drift "
        "from the maintained counters. Exits 1 when drift is found, unless --fix repairs it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slate", help="Only the slate with this slug.")
        parser.add_argument("--fix", action="store_true", help="Rewrite drifted totals.")

    def handle(self, *args, slate=None, fix=False, **options):
        slates = Slate.objects.order_by("id")
        if slate:
            slates = slates.filter(slug=slate)
            if not slates.exists():
                raise CommandError(f"No slate with slug {slate!r}.")
        drifted = 0
        for current in slates:
            drift = selectors.totals_drift(current.pk)
            if drift.clean:
                self.stdout.write(f"{current.slug}: ok")
                continue
            drifted += 1
            self.stdout.write(self.style.WARNING(f"{current.slug}: drift"))
            for line in drift.differences:
                self.stdout.write(f"  {line}")
            if fix:
                services.repair_totals(slate_id=current.pk)
                after = selectors.totals_drift(current.pk)
                self.stdout.write(f"  repaired: {'ok' if after.clean else 'STILL DRIFTING'}")
        if drifted and not fix:
            raise CommandError(f"{drifted} slate(s) drifted; run again with --fix to repair.")
