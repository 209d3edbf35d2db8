from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from escrow.models import Payment
from escrow.reconcile import reconcile_slate
from slate.models import Slate
from slate.states import SlateState


class Command(BaseCommand):
    help = (
        "Compare every payment and refund with Stripe's records, for one slate or for every "
        "slate that has moved money. Exits 1 with a report on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slate", help="Only the slate with this slug.")

    def handle(self, *args, slate=None, **options):
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
        compared = Payment.objects.filter(
            pledge__slate__in=slates, payment_intent_id__isnull=False
        ).count()
        self.stdout.write(
            f"Compared {compared} payment(s) of {slates.count()} slate(s) with Stripe "
            f"({settings.STRIPE_API_BASE or 'api.stripe.com'}): "
            + (f"{total} difference(s)." if total else "no differences.")
        )
        if total:
            raise CommandError(f"{total} difference(s) between the books and Stripe.")
