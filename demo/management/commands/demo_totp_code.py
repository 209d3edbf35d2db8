from django.core.management.base import BaseCommand

from demo.totp import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = (
        "Print the current two-factor code of the demo accounts (organizer, candidates, "
        "partner-org admins), whose TOTP secret is published with the demo logins."
    )

    def handle(self, *args, **options):
        self.stdout.write(demo_totp_code())
        if options["verbosity"] > 1:
            self.stdout.write(f"secret {DEMO_TOTP_SECRET}; codes change every 30 seconds")
