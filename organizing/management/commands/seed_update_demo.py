from django.core.management.base import BaseCommand

from organizing.demo import seed_update_demo


class Command(BaseCommand):
    help = (
        "Add the demo organizer's sent update to the demo slate (after seed_demo; no email "
        "goes out). Does nothing if the demo slate has an update already."
    )

    def handle(self, *args, **options):
        seed_update_demo(stdout=self.stdout if options["verbosity"] >= 1 else None)
