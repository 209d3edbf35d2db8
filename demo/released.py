"""Demo data for a slate that won: the "2026 Sun Belt Slate", whose three candidates all signed,
so it locked, and its money was released: each saved card charged at the Stripe, the money
paid out to the signers and disbursed by the treasurer, all of it in the ledger; then its
volunteers gave hours in shifts. The slate page shows its results, the directory lists it
under "released", and the home page's wins show it.

Built as real use builds it, under the demo clock (set up 45 days ago, locked 32 days ago):
the last signature's commit evaluates the threshold, the lock queues the release, and the
escrow tasks that follow (release, chunks, payouts) run here, eagerly, as a worker would run
them. So it needs a Stripe (the local fake in `make run`): without one there is nothing to
charge, and it does nothing.

Runs after ``demo.seed.seed_demo`` (it needs the demo's organizer, admin and supporters) and
does nothing once its slate exists. No email goes out: the seed is quiet.
"""

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from candidates.models import Candidate
from escrow import payouts
from escrow.models import Payout
from pledges import intake as pledge_intake
from pledges import notifications, signons
from pledges.declarations import ATTESTED
from pledges.models import Pledge, VolunteerActivity
from slate import lifecycle as slate_lifecycle
from slate.celery import app as celery_app
from slate.models import Slate
from slate.states import SlateState
from volunteers import shifts

from . import builders
from .candidate_story import public_contact
from .clock import demo_clock
from .story import ADMIN_EMAIL, DEMO_DOMAIN, DEMO_PASSWORD, DEMO_SLATE_SLUG, ORGANIZER_EMAIL
from .supporters import demo_donor_details, write

RELEASED_SLATE_SLUG = "2026-sun-belt-slate"
RELEASED_SLATE_NAME = "2026 Sun Belt Slate"
RELEASED_CANDIDATE_EMAIL = f"candidate11@{DEMO_DOMAIN}"
# Printed with the other demo logins when this slate is there (with a Stripe only).
LOGIN = ("candidate (released slate, paid out)", RELEASED_CANDIDATE_EMAIL, DEMO_PASSWORD)
MISSION = (
    "Three candidates across the Sun Belt, one program: water, heat and wages. They all "
    "signed, so every pledge was released to them."
)
PLANKS = (
    ("Water security", "Fund aquifer recharge and fix leaking municipal pipes first."),
    ("Heat safety", "Heat standards for outdoor workers and cooling centers in every county."),
    ("A living wage", "A $17 minimum wage, indexed to median wages."),
)
AGREEMENT_TEXT = (
    "We run as one slate: we share volunteers and voter contacts, vote together on all three "
    "planks, and appear together once a month in each of our states in turn."
)
# name, office, state, district, party, account (the first is the printed login)
CANDIDATES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Marta Delgado", Candidate.Office.HOUSE, "AZ", "3", "Democratic", "candidate11"),
    ("Andre Fontaine", Candidate.Office.STATE_LEGISLATURE, "GA", "58", "Democratic", "candidate12"),
    ("Celia Okonkwo", Candidate.Office.MAYOR, "TX", "", "Independent", "candidate13"),
)
# The supporters who back it: demo supporters (made by seed_demo) by number, and their state.
SUPPORTER_NUMBERS = range(201, 221)
STATES = {"AZ": "85004", "GA": "30307", "TX": "78704", "NC": "27701"}
MONEY_AMOUNTS_CENTS = (2_500, 5_000, 10_000, 25_000)
MONEY_PLEDGES = 10  # few: each card is saved and charged at the Stripe, and make run waits
VOLUNTEERS = 4
SEED = 2027

# The timeline, in days before the seed runs.
SETUP_DAYS_AGO = 45
OPENED_DAYS_AGO = 43
PLEDGES_FROM_DAYS_AGO, PLEDGES_TO_DAYS_AGO = 42, 33
SIGNED_DAYS_AGO = (34, 33, 32)  # the last signature locks it
SHIFTS_DAYS_AGO = (29, 27)
DISBURSED_DAYS_AGO = 30


@contextmanager
def tasks_run_here() -> Iterator[None]:
    """Celery tasks queued inside run in this process at once (what the tests' eager mode
    does), so the release the lock queues is over when the seed returns: `make run`'s banner
    then shows a released slate, not one its worker is still releasing. The release settles
    its pledges in this thread, not in its usual pool: the seed's quiet (a context variable)
    and its clock would not follow the pool's threads. Celery's line per task run is left
    out: a few dozen of them would bury the seed's own output."""
    conf = celery_app.conf
    trace_log = logging.getLogger("celery.app.trace")
    previous = (conf.task_always_eager, conf.task_eager_propagates, settings.SLATE_RELEASE_THREADS)
    previous_level = trace_log.level
    conf.task_always_eager, conf.task_eager_propagates = True, True
    settings.SLATE_RELEASE_THREADS = 1
    trace_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = previous[:2]
        settings.SLATE_RELEASE_THREADS = previous[2]
        trace_log.setLevel(previous_level)


def seed_released_demo(
    *, stdout=None, save_card: Callable[[Pledge], Pledge] | None = None
) -> Slate | None:
    """Returns the released slate made (None when already seeded, with no demo slate, or
    without a Stripe to charge: ``save_card`` is ``demo.cards.save_test_card`` then)."""
    demo = Slate.objects.filter(slug=DEMO_SLATE_SLUG).first()
    if demo is None or save_card is None:
        return None
    if Slate.objects.filter(slug=RELEASED_SLATE_SLUG).exists():
        return None
    with notifications.quiet(), tasks_run_here(), demo_clock() as clock:
        slate = _ReleasedSlate(demo, clock, save_card).run()
    if slate.state == SlateState.RELEASED:
        write(stdout, f"Released slate with results: {slate.name} at /slates/{slate.slug}/")
    else:
        # Its worker (or the sweeper) finishes the release; the page says so meanwhile.
        write(stdout, f"{slate.name} locked; its release is not finished ({slate.state}).")
    return slate


class _ReleasedSlate:
    def __init__(self, demo: Slate, clock, save_card):
        self.clock = clock
        self.save_card = save_card
        self.start = clock.now()
        self.rng = random.Random(SEED)
        self.organizer = demo.organizers.get(email=ORGANIZER_EMAIL)
        self.admin = get_user_model().objects.get(email=ADMIN_EMAIL)

    def at(self, days_ago: float) -> None:
        self.clock.at = self.start - timedelta(days=days_ago)

    def run(self) -> Slate:
        with transaction.atomic():
            slate, candidates = self.open_slate()
            volunteers = self.pledges(slate)
            for candidate, days_ago in zip(candidates[:-1], SIGNED_DAYS_AGO[:-1], strict=True):
                self.at(days_ago)
                builders.sign(candidate, slate, ip_address="203.0.113.30", user_agent="demo seed")
        self.at(SIGNED_DAYS_AGO[-1])
        with transaction.atomic():
            # The third of three: at this commit the threshold evaluation locks the slate and
            # the lock's release runs (tasks_run_here).
            builders.sign(candidates[-1], slate, ip_address="203.0.113.31", user_agent="demo seed")
        slate.refresh_from_db()
        with transaction.atomic():
            signups = self.shifts(slate, candidates, volunteers)
            self.disburse(slate)
            self.at(SHIFTS_DAYS_AGO[-1] - 1)  # every shift is over
            for candidate, signup in signups:
                shifts.record_attendance(signup=signup, actor=candidate.user, attended=True)
        self.clock.at = None
        slate.refresh_from_db()
        return slate

    def open_slate(self) -> tuple[Slate, list[Candidate]]:
        self.at(SETUP_DAYS_AGO)
        slate = builders.draft_slate(
            organizer=self.organizer,
            name=RELEASED_SLATE_NAME,
            slug=RELEASED_SLATE_SLUG,
            mission=MISSION,
            deadline=self.start - timedelta(days=5),
            min_signatures=len(CANDIDATES),
            planks=PLANKS,
        )
        candidates = []
        for name, office, state, district, party, account in CANDIDATES:
            first, _, last = name.partition(" ")
            candidate = builders.claimed_candidate(
                organizer=self.organizer, user=self.user(account, first, last),
                full_name=name, office=office, state=state, district=district, party=party,
                **public_contact(name),
            )  # fmt: skip
            candidates.append(
                builders.invite_and_verify(
                    slate=slate, candidate=candidate, organizer=self.organizer
                )
            )
        builders.publish_agreement(slate=slate, organizer=self.organizer, text=AGREEMENT_TEXT)
        self.at(OPENED_DAYS_AGO)
        return slate_lifecycle.open_slate(slate=slate, actor=self.organizer), candidates

    def user(self, account: str, first: str, last: str):
        email = f"{account}@{DEMO_DOMAIN}"
        user, _ = get_user_model().objects.get_or_create(
            username=account,
            defaults={
                "email": email,
                "first_name": first,
                "last_name": last,
                "password": self.organizer.password,  # the demo password's hash
            },
        )
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def pledges(self, slate: Slate) -> list:
        """Sign-ons from everyone (every other one on the public roll), money from the first
        MONEY_PLEDGES (each card saved), hours from the last VOLUNTEERS. Returns those."""
        people = list(
            get_user_model()
            .objects.filter(username__in=[f"supporter{n:03d}" for n in SUPPORTER_NUMBERS])
            .order_by("username")
        )
        states = list(STATES)
        window = PLEDGES_FROM_DAYS_AGO - PLEDGES_TO_DAYS_AGO
        for index, supporter in enumerate(people):
            state = states[index % len(states)]
            self.at(PLEDGES_FROM_DAYS_AGO - window * index / len(people))
            pledge_intake.sign_on(
                supporter=supporter, slate=slate, supporter_state=state,
                public_name=signons.public_name(supporter.get_full_name()) if index % 2 else "",
            )  # fmt: skip
            if index < MONEY_PLEDGES:
                pledge = pledge_intake.create_money_pledge(
                    attestations=ATTESTED, supporter=supporter, slate=slate,
                    amount_cents=self.rng.choice(MONEY_AMOUNTS_CENTS), supporter_state=state,
                    idempotency_key=f"demo-sun-belt-{supporter.username}-money",
                    donor_details=demo_donor_details(supporter, state),
                )  # fmt: skip
                self.save_card(pledge)
        volunteers = people[-VOLUNTEERS:]
        for supporter in volunteers:
            state = states[people.index(supporter) % len(states)]
            pledge_intake.create_volunteer_pledge(
                supporter=supporter, slate=slate, hours=self.rng.randint(4, 20),
                activities=(VolunteerActivity.CANVASSING, VolunteerActivity.PHONE_BANKING),
                zip_code=STATES[state], supporter_state=state,
                idempotency_key=f"demo-sun-belt-{supporter.username}-volunteer",
            )  # fmt: skip
        return volunteers

    def disburse(self, slate: Slate) -> None:
        """No candidate here has a Stripe connected account, so each payout was recorded for
        the treasurer, who sent the committee a check two days later."""
        self.at(DISBURSED_DAYS_AGO)
        recorded = Payout.objects.filter(slate=slate, status=Payout.Status.RECORDED)
        for number, payout_id in enumerate(recorded.order_by("pk").values_list("pk", flat=True)):
            payouts.record_disbursement(
                payout_id=payout_id, reference=f"Check {4101 + number}", actor=self.admin
            )

    def shifts(self, slate: Slate, candidates: list[Candidate], volunteers: list) -> list:
        """After the lock each campaign planned phone banks and the volunteers signed up (they
        came: run() marks them present, so the slate's results count their hours delivered).
        Returns the (campaign, sign-up) pairs."""
        if slate.state not in (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED):
            return []
        self.at(SHIFTS_DAYS_AGO[0] + 2)
        signups = []
        for number, candidate in enumerate(candidates):
            event = shifts.create_event(
                slate=slate, actor=candidate.user, candidate=candidate,
                title=f"Phone bank for {candidate.full_name}",
                description="Call from home with our dialer; scripts in English and Spanish.",
            )  # fmt: skip
            for days_ago in SHIFTS_DAYS_AGO:
                starts_at = self.start - timedelta(days=days_ago, hours=number)
                shift = shifts.add_shift(
                    event=event, actor=candidate.user, starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=3), activity="phone_banking",
                    mode="remote", capacity=10,
                    call_link="https://meet.example.org/sun-belt-phone-bank",
                )  # fmt: skip
                signups += [
                    (candidate, shifts.sign_up(shift=shift, volunteer=volunteer))
                    for volunteer in volunteers[number::2]
                ]
        return signups
