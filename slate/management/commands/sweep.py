from django.core.management.base import BaseCommand

from slate import tasks


class Command(BaseCommand):
    help = (
        "Run the periodic jobs once, in-process: expire overdue slates, re-evaluate open ones "
        "and re-send undispatched slate events. Beat runs these every minute; this is for "
        "operators and for recovery after an outage."
    )

    def handle(self, *args, **options):
        expired = tasks.expire_overdue_slates()
        locked = tasks.evaluate_open_slates()
        dispatched = tasks.sweep_undispatched_transitions()
        self.stdout.write(
            f"expired or locked at deadline: {expired}; locked: {locked}; "
            f"events re-sent: {dispatched}"
        )
