from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from escrow.models import Payment
from escrow.reconcile import orphan_charge_report, reconcile_slate
from slate.models import Slate
from slate.states import SlateState


class Command(BaseCommand):
    help = (
        "Compare every payment and refund with Stripe's records, for one slate or for every "
        "slate that has moved money, and walk Stripe's charges of the last days for money the "
        "books do not know. Exits 1 with a report on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slate", help="Only the slate with this slug.")
        parser.add_argument(
            "--days", type=int, default=3,
            help="How many days of Stripe's charges to walk for money the books do not know.",
        )  # fmt: skip

    def handle(self, *args, slate=None, days=3, **options):
        slates = Slate.objects.exclude(state__in=[SlateState.DRAFT]).order_by("pk")
        if slate:
            slates = slates.filter(slug=slate)
            if not slates.exists():
                raise CommandError(f"No slate with slug {slate!r}.")
        total = 0
        for current in slates:
            differences = reconcile_slate(current)
            total += len(differences)
            self.stdout.write(f"{current.slug}: {'ok' if not differences else 'DIFFERENCES'}")
            for line in differences:
                self.stdout.write(f"  {line}")
        one_slate = slates.first() if slate else None
        orphans = orphan_charge_report(since=timezone.now() - timedelta(days=days), slate=one_slate)
        self.stdout.write(f"stripe charges of the last {days} day(s): "
                          f"{'ok' if not orphans else 'NOT ON THE BOOKS'}")  # fmt: skip
        for line in orphans:
            self.stdout.write(f"  {line}")
        compared = Payment.objects.filter(
            pledge__slate__in=slates, payment_intent_id__isnull=False
        ).count()
        total += len(orphans)
        self.stdout.write(
            f"Compared {compared} payment(s) of {slates.count()} slate(s) with Stripe "
            f"({settings.STRIPE_API_BASE or 'api.stripe.com'}): "
            + (f"{total} difference(s)." if total else "no differences.")
        )
        if total:
            raise CommandError(f"{total} difference(s) between the books and Stripe.")
