from django.core.management.base import BaseCommand

from slate import lifecycle, selectors


class Command(BaseCommand):
    help = "Evaluate every open slate's threshold rule now, locking those whose rule holds."

    def handle(self, *args, **options):
        for slate in selectors.open_slates():
            locked = lifecycle.evaluate_threshold(slate_id=slate.pk)
            verdict = selectors.threshold_verdict(slate)
            status = "LOCKED" if locked else ("; ".join(verdict.unmet) or "holds")
            self.stdout.write(f"{slate.slug}: {status}")
