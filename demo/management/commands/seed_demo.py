from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.cards import save_test_card, stripe_configured
from demo.record import seed_record_demo
from demo.released import LOGIN as RELEASED_LOGIN
from demo.released import RELEASED_SLATE_SLUG, seed_released_demo
from demo.seed import seed_demo
from demo.story import DEMO_DOMAIN, DEMO_SLATE_NAME, DEMO_SLATE_SLUG
from demo.totp import DEMO_TOTP_SECRET, ensure_demo_totp
from demo.updates import seed_update_demo
from demo.volunteers import seed_volunteer_demo
from slate.models import Slate


class Command(BaseCommand):
    help = (
        "Create the demo slate, its candidates, two partner organizations and about 300 "
        "supporters with pledges. Does nothing if the demo slate already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even when SLATE_ENV is production (the demo accounts' password is public).",
        )

    def handle(self, *args, force: bool = False, **options):
        if settings.SLATE_ENV == "production" and not force:
            raise CommandError(
                "Refusing to seed demo data: SLATE_ENV is 'production'. The demo accounts, "
                "including a superuser, share a published password. Use --force if you really "
                "want demo data in this database."
            )
        # With Stripe (or the local fake) configured, demo money pledges get a saved test card,
        # so locking the demo slate runs the whole release against it.
        result = seed_demo(
            stdout=self.stdout if options["verbosity"] >= 1 else None,
            save_card=save_test_card if stripe_configured() else None,
        )
        # Volunteer details, campaign offices and upcoming shifts, at the real time.
        seed_volunteer_demo(stdout=self.stdout if options["verbosity"] >= 1 else None)
        # A second slate, locked, with a vote on the record, and the signers' room's sharing.
        seed_record_demo(stdout=self.stdout if options["verbosity"] >= 1 else None)
        # With a Stripe: a third slate, all signed, locked and released, with its results.
        seed_released_demo(
            stdout=self.stdout if options["verbosity"] >= 1 else None,
            save_card=save_test_card if stripe_configured() else None,
        )
        ensure_demo_totp(domain=DEMO_DOMAIN)  # its campaign staff member's role needs it
        # An organizer update on the sent-updates list (no email goes out).
        seed_update_demo(stdout=self.stdout if options["verbosity"] >= 1 else None)
        self.stdout.write(
            f"Demo slate: {DEMO_SLATE_NAME} at /slates/{DEMO_SLATE_SLUG}/", self.style.SUCCESS
        )
        logins = list(result.logins)
        if Slate.objects.filter(slug=RELEASED_SLATE_SLUG).exists():
            logins.insert(2, RELEASED_LOGIN)  # beside the other candidates
        self.stdout.write("Demo logins:")
        width = max(len(role) for role, _, _ in logins)
        for role, email, password in logins:
            self.stdout.write(f"  {role:<{width}}  {email:<24}  password: {password}")
        self.stdout.write(
            "Organizers, candidates, partner-org admins and staff log in with two-factor:\n"
            f"  TOTP secret {DEMO_TOTP_SECRET} (add it to an authenticator app), or get\n"
            "  the current code from: .venv/bin/python manage.py demo_totp_code"
        )
