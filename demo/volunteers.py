"""Volunteer demo data for `make run`: details on the demo slate's volunteer pledges, campaign
offices, and upcoming events with shifts for the candidates who have signed.

Runs after ``demo.seed.seed_demo`` at the real time (shifts are upcoming from now), and
does nothing once the demo slate has volunteer events.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from candidates.selectors import valid_signatures
from pledges.models import Pledge
from pledges.states import PledgeKind
from slate.models import Slate
from volunteers import shifts
from volunteers.models import (
    WEEKLY_SLOT_CHOICES,
    CampaignOffice,
    VolunteerDetails,
    VolunteerEvent,
)

from .story import DEMO_SLATE_SLUG, ORGANIZER_EMAIL

OFFICE_ZIPS = {"AZ": "85004", "GA": "30307", "MI": "48201"}
LANGUAGES = (["English"], ["English", "Spanish"], ["English"], ["Spanish"], ["English", "Arabic"])
SEED = 2026


def seed_volunteer_demo(*, stdout=None) -> int:
    """Returns the number of shifts created (0 when already seeded or no demo slate)."""
    slate = Slate.objects.filter(slug=DEMO_SLATE_SLUG).first()
    if slate is None or VolunteerEvent.objects.filter(slate=slate).exists():
        return 0
    rng = random.Random(SEED)
    organizer = slate.organizers.get(email=ORGANIZER_EMAIL)
    created = 0
    with transaction.atomic():
        for pledge in Pledge.objects.filter(slate=slate, kind=PledgeKind.VOLUNTEER).order_by("id"):
            VolunteerDetails.objects.get_or_create(
                pledge=pledge,
                defaults={
                    "mode": rng.choice(["in_person", "either", "either", "remote"]),
                    "weekly_slots": sorted(
                        rng.sample([value for value, _ in WEEKLY_SLOT_CHOICES], rng.randint(1, 4))
                    ),
                    "languages": rng.choice(LANGUAGES),
                    "share_contact": rng.random() < 0.6,
                    "display_name": pledge.supporter.get_full_name(),
                },
            )
        today = timezone.now().replace(minute=0, second=0, microsecond=0)
        for number, signature in enumerate(
            valid_signatures(slate).select_related("candidate").order_by("candidate__id")
        ):
            candidate = signature.candidate
            office_zip = OFFICE_ZIPS.get(candidate.state)
            if office_zip:
                CampaignOffice.objects.get_or_create(
                    candidate=candidate, defaults={"zip_code": office_zip}
                )
            actor = candidate.user or organizer
            canvass = shifts.create_event(
                slate=slate, actor=actor, candidate=candidate,
                title=f"Weekend canvass for {candidate.full_name}",
                description="Door-knocking in pairs; we train you first. Water and maps provided.",
            )  # fmt: skip
            phones = shifts.create_event(
                slate=slate, actor=actor, candidate=candidate,
                title=f"Phone bank for {candidate.full_name}",
                description="Call from home with our dialer; scripts in English and Spanish.",
            )  # fmt: skip
            for day in (2, 4, 9):
                start = today + timedelta(days=day + number, hours=17 - today.hour)
                if office_zip:
                    shifts.add_shift(
                        event=canvass, actor=actor, starts_at=start,
                        ends_at=start + timedelta(hours=3), activity="canvassing",
                        mode="in_person", capacity=12,
                        location=f"Campaign office, {candidate.state} {office_zip}",
                        zip_code=office_zip, notes="Meet at the front desk.",
                    )  # fmt: skip
                    created += 1
                shifts.add_shift(
                    event=phones, actor=actor, starts_at=start + timedelta(hours=6),
                    ends_at=start + timedelta(hours=8), activity="phone_banking", mode="remote",
                    capacity=25, call_link="https://meet.example.org/slate-phone-bank",
                )  # fmt: skip
                created += 1
    if stdout is not None:
        stdout.write(f"Seeded {created} volunteer shifts for the signed candidates.")
    return created
