"""Demo data for `make run` and for trying Slate by hand: one open slate, eight candidates,
two partner organizations and about 300 supporters, all built through the services so the
maintained totals, histories and breakdowns are exactly what real use would produce.

``seed_demo`` is idempotent: when the demo slate exists it changes nothing.

Backdating: the story is spread over the last three weeks (slate published 22 days ago,
pledges over the last 21 days) so the daily growth breakdown has data. The services stamp
rows with ``timezone.now()``, so the seed runs them under a *demo clock*: it patches
``django.utils.timezone.now`` and, because a model field's ``default=timezone.now`` holds the
original function and ignores that patch, also the ``get_default`` of every such field. The
patch is process-wide while the seed runs, which is fine for a management command and tests.
"""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from unittest import mock

from accounts.demo import ensure_demo_totp
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from candidates import asks
from candidates import demo as candidate_demo
from candidates import services as candidate_services
from candidates.models import Candidate
from candidates.selectors import current_agreement_version
from compliance.declarations import ATTESTED
from slate import services as slate_services
from slate.models import PartnerOrganization, Slate

from . import notifications, referrals, services, signons
from .models import Pledge, VolunteerActivity

DEMO_SLATE_SLUG = "2026-coordinated-slate"
DEMO_SLATE_NAME = "2026 Coordinated Slate"
DEMO_PASSWORD = "slate-demo"  # noqa: S105 - public by design: printed in the dev banner
DEMO_DOMAIN = "slate.test"
SUPPORTER_COUNT = 300
SEED = 2026

ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
ORGANIZER_EMAIL = f"organizer@{DEMO_DOMAIN}"
SUPPORTER_EMAIL = f"supporter@{DEMO_DOMAIN}"
CANDIDATE_EMAIL = f"candidate@{DEMO_DOMAIN}"
UNSIGNED_CANDIDATE_EMAIL = f"candidate4@{DEMO_DOMAIN}"
CLAIMED_CANDIDATE_EMAIL = f"candidate9@{DEMO_DOMAIN}"
UNION_ADMIN_EMAIL = f"union@{DEMO_DOMAIN}"
CIVIC_ADMIN_EMAIL = f"civic@{DEMO_DOMAIN}"

LOGINS: tuple[tuple[str, str, str], ...] = (
    ("organizer", ORGANIZER_EMAIL, DEMO_PASSWORD),
    ("candidate (signed)", CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("candidate (not yet signed)", UNSIGNED_CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("candidate (claimed, awaiting verification)", CLAIMED_CANDIDATE_EMAIL, DEMO_PASSWORD),
    ("supporter", SUPPORTER_EMAIL, DEMO_PASSWORD),
    ("partner org admin (union)", UNION_ADMIN_EMAIL, DEMO_PASSWORD),
    ("partner org admin (civic group)", CIVIC_ADMIN_EMAIL, DEMO_PASSWORD),
    ("staff admin", ADMIN_EMAIL, DEMO_PASSWORD),
)


@dataclass(frozen=True)
class DemoLogins:
    """What the seed leaves for a person to try: ``logins`` is ``[(role, email, password)]``."""

    logins: list[tuple[str, str, str]] = field(default_factory=lambda: list(LOGINS))
    created: bool = False
    slate_slug: str = DEMO_SLATE_SLUG
    pledge_count: int = 0
    seconds: float = 0.0


MISSION = (
    "Eight candidates for federal, state and city office, one shared program. "
    "Pledge your money, your hours and your name now: nothing is released to any of them "
    "until at least five sign a binding agreement to share resources, campaign together and "
    "vote as a bloc on the ten planks below. If they do not coordinate by the deadline, "
    "every hold is released and nobody is charged."
)

PLANKS: tuple[tuple[str, str], ...] = (
    (
        "Universal health care",
        "Guarantee every resident comprehensive coverage through a single public program, "
        "free at the point of service.",
    ),
    (
        "Environmental protection",
        "Restore and enforce clean-air, clean-water and public-lands protections and make "
        "polluters pay for the damage they cause.",
    ),
    (
        "Campaign finance reform",
        "End unlimited outside spending, disclose every large political donor and fund "
        "small-donor public financing.",
    ),
    (
        "Education and student debt",
        "Make public college and trade school tuition-free and cancel crushing student debt.",
    ),
    (
        "Civil rights",
        "Protect the vote and equal treatment under the law regardless of race, sex, religion, "
        "disability, sexual orientation or gender identity.",
    ),
    (
        "Climate",
        "Reach net-zero emissions by 2045 through a just transition that creates union jobs "
        "in clean energy.",
    ),
    (
        "Free speech and church–state separation",
        "Defend free expression for everyone and keep government neutral toward religion.",
    ),
    (
        "Breaking up monopolies and limiting buybacks",
        "Enforce antitrust law against dominant corporations and limit the stock buybacks "
        "that drain investment and wages.",
    ),
    (
        "Progressive income tax",
        "Restore steeply progressive income-tax brackets so the highest earners pay their "
        "fair share.",
    ),
    (
        "Lifting the Social Security payroll cap",
        "Apply the Social Security payroll tax to all earnings, not just those under the cap, "
        "to keep full benefits secure for generations.",
    ),
)

AGREEMENT_TITLE = "2026 Coordinated Slate: coordination agreement"
AGREEMENT_TEXT = """\
We, the undersigned candidates, agree to run in 2026 as one slate. Each of us keeps our own \
campaign, committee and treasurer, but from the day this agreement unlocks the slate's pledges \
we act as partners, not rivals, wherever our races touch.

1. Shared resources. We share voter contacts, volunteer shifts, canvassing turf, event \
calendars and research with one another as far as federal and state law allow. Money pledged \
to the slate is divided as each supporter chose, or equally among the signers; none of us \
will ask a supporter to redirect a slate pledge to our own campaign alone.

2. Voting as a bloc. Once elected, we vote together on the ten planks of this slate: \
universal health care, environmental protection, campaign finance reform, education and \
student debt, civil rights, climate, free speech and church–state separation, breaking up \
monopolies and limiting buybacks, a progressive income tax, and lifting the Social Security \
payroll cap. Where a plank comes to a vote in different forms, we meet beforehand and agree \
on one position; a signer who cannot support that position says so publicly and in advance.

3. Campaigning together. We appear together at least once a month in each signer's state, \
endorse one another, and do not run negative advertising against another signer. Volunteers \
recruited through the slate may be scheduled for any signer's campaign.

4. Accountability. We publish how we voted on every plank within one week of the vote. A \
signer who breaks this agreement may be removed from the slate by a two-thirds vote of the \
other signers, and their supporters are told why.

By typing my full name I sign this agreement as a candidate and confirm that I have read it \
in full."""

# name, office, state, district, party, account email
CANDIDATES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Elena Marquez", Candidate.Office.HOUSE, "AZ", "7", "Democratic", CANDIDATE_EMAIL),
    ("Darnell Whitaker", Candidate.Office.SENATE, "GA", "", "Democratic", "candidate2"),
    (
        "Priya Raman",
        Candidate.Office.STATE_LEGISLATURE,
        "MI",
        "14",
        "Working Families",
        "candidate3",
    ),
    ("Walt Brennan", Candidate.Office.SENATE, "ME", "", "Independent", "candidate4"),
    ("Ruth Abernathy", Candidate.Office.GOVERNOR, "WI", "", "Democratic", "candidate5"),
    ("Tomás Herrera", Candidate.Office.MAYOR, "TX", "", "Independent", "candidate6"),
    ("Jonah Lindqvist", Candidate.Office.HOUSE, "MN", "5", "Democratic", "candidate7"),
    (
        "Keisha Monroe",
        Candidate.Office.STATE_LEGISLATURE,
        "PA",
        "181",
        "Working Families",
        "candidate8",
    ),
)
# Each partner's codes for chapters, mailings and events: (code, label, kind).
PARTNER_CODES = {
    "union": (
        ("cleveland", "Cleveland chapter", "chapter"),
        ("detroit", "Detroit chapter", "chapter"),
        ("spring-newsletter", "Spring newsletter", "mailing"),
    ),
    "civic": (
        ("registration-drive", "Voter registration drive", "event"),
        ("members-email", "Members' email", "mailing"),
    ),
}
SIGNERS = 3  # the first three sign: the slate stays open, 3 of the 5 needed

# The organizer's second slate, left half-way through the wizard: a draft with two invited
# candidates, one who claimed the profile (the organizer can verify them) and one who has not
# (the organizer can copy their invitation link).
DRAFT_SLATE_SLUG = "2028-great-lakes-slate"
DRAFT_SLATE_NAME = "2028 Great Lakes Slate"
DRAFT_CANDIDATES: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("Marisol Vega", Candidate.Office.HOUSE, "MI", "13", CLAIMED_CANDIDATE_EMAIL),
    ("Owen Castellano", Candidate.Office.STATE_LEGISLATURE, "OH", "21", None),
)

# Supporter states (weights) and real-looking ZIP codes in each.
SUPPORTER_STATES: dict[str, tuple[int, tuple[str, ...]]] = {
    "CA": (16, ("94110", "90026", "92104", "95616")),
    "NY": (12, ("10027", "11215", "14607", "12210")),
    "TX": (10, ("78704", "77006", "75208", "79902")),
    "PA": (8, ("19104", "15213", "17603")),
    "MI": (8, ("48201", "49503", "48104")),
    "WI": (7, ("53703", "53212", "54301")),
    "AZ": (7, ("85004", "85719", "86001")),
    "GA": (7, ("30307", "31401", "30601")),
    "MN": (6, ("55406", "55104", "55805")),
    "ME": (4, ("04101", "04401")),
    "NC": (5, ("27701", "28202", "27601")),
    "OH": (5, ("43201", "44113", "45202")),
    "WA": (4, ("98103", "98122", "99201")),
    "CO": (4, ("80205", "80302")),
    "MA": (3, ("02139", "01060", "02130")),
}
MONEY_AMOUNTS_CENTS = (2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
MONEY_WEIGHTS = (32, 27, 20, 11, 6, 4)
AVAILABILITY = (
    "Weekends",
    "Weekday evenings",
    "Saturday mornings",
    "Flexible",
    "Two evenings a week",
    "Election week only",
    "",
)
FIRST_NAMES = (
    "Aaliyah", "Ben", "Carmen", "Dev", "Erin", "Faisal", "Grace", "Hector", "Imani", "Jake",
    "Kenji", "Lena", "Marcus", "Nadia", "Owen", "Paloma", "Quinn", "Rosa", "Sam", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Abby", "Luis", "Maya", "Noah",
)  # fmt: skip
LAST_NAMES = (
    "Anders", "Brooks", "Castillo", "Dunn", "Ellison", "Fischer", "Garcia", "Hale", "Ibrahim",
    "Jensen", "Kowalski", "Lopez", "Morales", "Nguyen", "Okafor", "Patel", "Quintero", "Reyes",
    "Schmidt", "Thompson", "Uddin", "Vance", "Washington", "Xu", "Yamamoto", "Zielinski",
)  # fmt: skip

DEMO_EMPLOYERS = (
    ("Self-employed", "Carpenter"), ("City schools", "Teacher"), ("Retired", "Retired"),
    ("County hospital", "Nurse"), ("Not employed", "Student"), ("Riverside Co-op", "Manager"),
)  # fmt: skip


def _demo_donor_details(supporter, state: str) -> dict[str, str]:
    """Contributor details for the demo's money pledges, so its FEC export has itemized rows."""
    state = state or "CA"
    number = supporter.pk or 0
    employer, occupation = DEMO_EMPLOYERS[number % len(DEMO_EMPLOYERS)]
    zips = SUPPORTER_STATES.get(state, SUPPORTER_STATES["CA"])[1]
    return {
        "first_name": supporter.first_name or "Demo", "last_name": supporter.last_name or "Donor",
        "street_1": f"{100 + number % 900} Main Street", "city": "Springfield", "state": state,
        "zip_code": zips[number % len(zips)], "employer": employer, "occupation": occupation,
    }  # fmt: skip


# The story's timeline, in days before the seed runs.
SETUP_DAYS_AGO = 24
OPENED_DAYS_AGO = 22
ENDORSED_DAYS_AGO = 21.5
PLEDGE_WINDOW_DAYS = 21
SIGNED_DAYS_AGO = (20, 12, 4)


# --- The demo clock ---------------------------------------------------------------------------


class _Clock:
    def __init__(self, real_now):
        self._real_now = real_now
        self.at: datetime | None = None

    def now(self) -> datetime:
        return self.at if self.at is not None else self._real_now()


@contextmanager
def _demo_clock() -> Iterator[_Clock]:
    """Make ``timezone.now()`` and every ``default=timezone.now`` field return ``clock.at``."""
    real_now = timezone.now
    clock = _Clock(real_now)
    patched = [
        model_field
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.DateTimeField) and model_field.default is real_now
    ]
    try:
        for model_field in patched:
            model_field.get_default = clock.now
        with mock.patch("django.utils.timezone.now", clock.now):
            yield clock
    finally:
        for model_field in patched:
            model_field.__dict__.pop("get_default", None)


# --- Seeding ----------------------------------------------------------------------------------


def _write(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def seed_demo(*, stdout=None, save_card: Callable[[Pledge], Pledge] | None = None) -> DemoLogins:
    """Create the demo data unless the demo slate exists. Returns the demo logins.

    ``save_card`` saves a test card for a new money pledge and commits it (the escrow app
    passes one when a Stripe, or the local fake, is configured); without it money pledges are
    committed directly and simply voided if the demo slate ever locks.
    """
    if Slate.objects.filter(slug=DEMO_SLATE_SLUG).exists():
        # Databases seeded before two-factor was required get the demo TOTP now.
        ensure_demo_totp(domain=DEMO_DOMAIN)
        _write(stdout, f"Demo data already present (slate {DEMO_SLATE_SLUG!r}); nothing to do.")
        return DemoLogins()
    started = time.monotonic()
    _write(stdout, "Seeding demo data...")
    # One transaction: a failed seed leaves nothing behind, so the next run starts afresh.
    # No confirmation emails for a few hundred made-up supporters.
    with transaction.atomic(), _demo_clock() as clock, notifications.quiet():
        pledge_count = _Seeder(clock, stdout, save_card).run()
        ensure_demo_totp(domain=DEMO_DOMAIN)
    seconds = time.monotonic() - started
    _write(stdout, f"Seeded {pledge_count} pledges in {seconds:.1f} s.")
    return DemoLogins(created=True, pledge_count=pledge_count, seconds=seconds)


@dataclass
class _PlannedPledge:
    at: datetime
    supporter_index: int
    kind: str
    amount_cents: int = 0
    condition_min_signatures: int | None = None
    hours: int = 0
    activities: tuple[str, ...] = ()
    zip_code: str = ""
    availability: str = ""


class _Seeder:
    def __init__(self, clock: _Clock, stdout, save_card=None):
        self.clock = clock
        self.stdout = stdout
        self.save_card = save_card
        self.rng = random.Random(SEED)
        self.start = clock.now()
        self.password_hash = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow
        self.User = get_user_model()

    def ago(self, days: float) -> datetime:
        return self.start - timedelta(days=days)

    def at(self, when: datetime) -> None:
        self.clock.at = when

    def run(self) -> int:
        self.at(self.ago(SETUP_DAYS_AGO + 1))
        admin = self.user(ADMIN_EMAIL, "Avery", "Admin", is_staff=True, is_superuser=True)
        organizer = self.user(ORGANIZER_EMAIL, "Olivia", "Organizer")
        union_admin = self.user(UNION_ADMIN_EMAIL, "Luis", "Ortega")
        civic_admin = self.user(CIVIC_ADMIN_EMAIL, "Hannah", "Cho")
        demo_supporter = self.user(SUPPORTER_EMAIL, "Sam", "Supporter")

        self.at(self.ago(SETUP_DAYS_AGO))
        slate = slate_services.create_slate(
            name=DEMO_SLATE_NAME,
            slug=DEMO_SLATE_SLUG,
            mission=MISSION,
            deadline=self.start + timedelta(days=60),
            threshold_min_signatures=5,
            planks=PLANKS,
            created_by=organizer,
        )
        candidates = self.candidates(slate, organizer)

        self.at(self.ago(SETUP_DAYS_AGO - 1))
        candidate_services.save_agreement_draft(
            slate=slate, actor=organizer, title=AGREEMENT_TITLE, text=AGREEMENT_TEXT
        )
        candidate_services.publish_agreement(slate=slate, actor=organizer)

        self.at(self.ago(OPENED_DAYS_AGO))
        slate = slate_services.open_slate(slate=slate, actor=organizer)
        organizations = self.partners(slate, admin, union_admin, civic_admin)
        self.signatures(slate, candidates[:SIGNERS])
        self.decline(slate, organizer)

        plan = self.plan_pledges()
        supporters = self.supporters(plan)
        count = self.pledges(slate, plan, supporters, organizations)
        count += self.demo_supporter_pledges(slate, demo_supporter, organizations[1])
        self.asks(slate, candidates[SIGNERS:], supporters)
        self.referral_chains(slate, demo_supporter, supporters)
        self.at(self.ago(1))
        self.draft_slate(organizer)
        self.clock.at = None
        return count

    def draft_slate(self, organizer) -> Slate:
        slate = slate_services.create_slate(
            name=DRAFT_SLATE_NAME,
            slug=DRAFT_SLATE_SLUG,
            mission="Six races around the Great Lakes in 2028, one shared program.",
            deadline=self.start + timedelta(days=400),
            threshold_min_signatures=2,
            planks=PLANKS[:3],
            created_by=organizer,
        )
        for name, office, state, district, email in DRAFT_CANDIDATES:
            invitation = candidate_services.invite_new_candidate(
                slate=slate, actor=organizer, full_name=name, office=office, state=state,
                district=district, party="Democratic",
            )  # fmt: skip
            if email is not None:
                first, _, last = name.partition(" ")
                candidate_services.claim_invitation(
                    invitation=invitation, user=self.user(email, first, last)
                )
        return slate

    # --- People ---

    def user(self, email: str, first: str, last: str, **flags):
        username = email.split("@", 1)[0]
        user, created = self.User.objects.get_or_create(
            username=username,
            defaults={
                "email": email,
                "first_name": first,
                "last_name": last,
                "password": self.password_hash,
                **flags,
            },
        )
        if not created:
            user.password = self.password_hash
            for name, value in flags.items():
                setattr(user, name, value)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def candidates(self, slate: Slate, organizer) -> list[Candidate]:
        result = []
        for name, office, state, district, party, account in CANDIDATES:
            email = account if "@" in account else f"{account}@{DEMO_DOMAIN}"
            first, _, last = name.partition(" ")
            candidate = candidate_services.create_candidate(
                full_name=name,
                office=office,
                state=state,
                district=district,
                party=party,
                website=f"https://{slugify(name).replace('-', '')}.example.org",
                created_by=organizer,
                **candidate_demo.public_contact(name),
            )
            candidate = candidate_services.claim_candidate(
                candidate=candidate, user=self.user(email, first, last)
            )
            if name in candidate_demo.STATEMENTS:
                candidate = candidate_services.update_public_profile(
                    candidate=candidate, actor=candidate.user,
                    statement=candidate_demo.STATEMENTS[name], website=candidate.website,
                )  # fmt: skip
            candidate_services.invite_candidate(slate=slate, candidate=candidate, actor=organizer)
            result.append(candidate_services.verify_candidate(candidate=candidate, actor=organizer))
        return result

    def partners(self, slate: Slate, staff, union_admin, civic_admin):
        union = slate_services.create_partner_organization(
            name="Great Lakes United Service Workers, Local 1147",
            kind=PartnerOrganization.Kind.UNION,
            admin=union_admin,
            website="https://local1147.example.org",
        )
        civic = slate_services.create_partner_organization(
            name="Common Ground Voters League",
            kind=PartnerOrganization.Kind.CIVIC,
            admin=civic_admin,
            website="https://commonground.example.org",
        )
        self.at(self.ago(ENDORSED_DAYS_AGO))
        for organization, admin, statement in (
            (
                union,
                union_admin,
                "Our members voted to back every candidate who signs. A coordinated slate is "
                "the only way working people get a majority that keeps its promises.",
            ),
            (
                civic,
                civic_admin,
                "Common Ground endorses the slate because it puts money behind cooperation, "
                "not spoilers. We will register and turn out voters in every signer's race.",
            ),
        ):
            slate_services.verify_partner_organization(organization=organization, actor=staff)
            slate_services.endorse_slate(
                organization=organization, slate=slate, actor=admin, statement=statement
            )
        # Sub-codes: a chapter's, a mailing's or an event's own links (pledges() uses them).
        for organization, admin, codes in (
            (union, union_admin, PARTNER_CODES["union"]),
            (civic, civic_admin, PARTNER_CODES["civic"]),
        ):
            for code, label, kind in codes:
                slate_services.create_partner_code(
                    organization=organization, actor=admin, label=label, kind=kind, code=code
                )
        return [union, civic]

    def signatures(self, slate: Slate, signers: list[Candidate]) -> None:
        version = current_agreement_version(slate)
        for number, (candidate, days_ago) in enumerate(
            zip(signers, SIGNED_DAYS_AGO, strict=True), start=10
        ):
            self.at(self.ago(days_ago))
            candidate_services.sign_agreement(
                candidate=candidate,
                slate=slate,
                agreement_version_id=version.pk,
                typed_name=candidate.full_name,
                signer=candidate.user,
                ip_address=f"203.0.113.{number}",
                user_agent="Mozilla/5.0 (demo seed)",
                reservations=candidate_demo.RESERVATIONS.get(candidate.full_name),
            )

    def decline(self, slate: Slate, organizer) -> None:
        """A ninth candidate, invited late, declines in public with a reason."""
        name, office, state, district, party, account = candidate_demo.DECLINER
        self.at(self.ago(18))
        candidate = candidate_services.create_candidate(
            full_name=name, office=office, state=state, district=district, party=party,
            created_by=organizer, **candidate_demo.public_contact(name),
        )  # fmt: skip
        first, _, last = name.partition(" ")
        candidate = candidate_services.claim_candidate(
            candidate=candidate, user=self.user(f"{account}@{DEMO_DOMAIN}", first, last)
        )
        invitation = candidate_services.invite_candidate(
            slate=slate, candidate=candidate, actor=organizer
        )
        self.at(self.ago(9))
        candidate_services.respond_to_invitation(
            invitation=invitation, user=candidate.user, accept=False,
            reason=candidate_demo.DECLINE_REASON,
        )  # fmt: skip

    def asks(self, slate: Slate, unsigned: list[Candidate], supporters: list) -> None:
        """Supporters ask the unsigned candidates to sign, over the last ten days."""
        for candidate in unsigned:
            count = candidate_demo.ASK_COUNTS.get(candidate.full_name, 0)
            for index, supporter in enumerate(self.rng.sample(supporters, count)):
                self.at(self.ago(self.rng.uniform(0.1, 10)))
                asks.record_ask(
                    slate=slate, candidate=candidate, supporter=supporter,
                    message=candidate_demo.ASK_MESSAGES[index % len(candidate_demo.ASK_MESSAGES)],
                )  # fmt: skip

    # --- Supporters and their pledges ---

    def plan_pledges(self) -> list[_PlannedPledge]:
        """Decide everything with the seeded generator first, then create in time order."""
        rng = self.rng
        window = PLEDGE_WINDOW_DAYS * 86_400
        states = list(SUPPORTER_STATES)
        state_weights = [SUPPORTER_STATES[s][0] for s in states]
        self.profiles: list[tuple[str, int | None]] = []  # (state, partner index or None)
        plan: list[_PlannedPledge] = []
        for index in range(SUPPORTER_COUNT):
            state = rng.choices(states, state_weights)[0]
            referral = rng.choice((0, 1)) if rng.random() < 1 / 3 else None
            self.profiles.append((state, referral))
            # Skewed toward recent days, so the daily chart grows; at least 5 minutes ago.
            first = 300 + rng.betavariate(1.0, 1.5) * (window - 600)
            kinds = [
                kind
                for kind, chance in (("signon", 0.7), ("money", 0.5), ("volunteer", 0.3))
                if rng.random() < chance
            ] or ["signon"]
            for kind in kinds:
                seconds_ago = max(300.0, first - rng.uniform(0, 3_600))
                item = _PlannedPledge(
                    at=self.start - timedelta(seconds=seconds_ago),
                    supporter_index=index,
                    kind=kind,
                )
                if kind == "money":
                    item.amount_cents = rng.choices(MONEY_AMOUNTS_CENTS, MONEY_WEIGHTS)[0]
                    if rng.random() < 0.15:
                        item.condition_min_signatures = 5
                elif kind == "volunteer":
                    item.hours = rng.randint(2, 40)
                    item.activities = tuple(
                        rng.sample(VolunteerActivity.values, rng.choice((1, 1, 2, 3)))
                    )
                    item.zip_code = rng.choice(SUPPORTER_STATES[state][1])
                    item.availability = rng.choice(AVAILABILITY)
                plan.append(item)
        plan.sort(key=lambda item: (item.at, item.supporter_index, item.kind))
        return plan

    def supporters(self, plan: list[_PlannedPledge]) -> list:
        """Bulk-create supporter001… (plain rows; they own no aggregate). Joined just before
        their first pledge."""
        joined: dict[int, datetime] = {}
        for item in plan:
            joined.setdefault(item.supporter_index, item.at - timedelta(minutes=3))
        usernames = [f"supporter{index + 1:03d}" for index in range(SUPPORTER_COUNT)]
        existing = set(
            self.User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        rng = random.Random(SEED + 1)
        new_users = [
            self.User(
                username=username,
                email=f"{username}@{DEMO_DOMAIN}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=self.password_hash,
                date_joined=joined[index],
            )
            for index, username in enumerate(usernames)
            if username not in existing
        ]
        self.User.objects.bulk_create(new_users, batch_size=500)
        by_name = self.User.objects.in_bulk(usernames, field_name="username")
        have_address = set(
            EmailAddress.objects.filter(user__in=by_name.values()).values_list("user_id", flat=True)
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=user, email=user.email, verified=True, primary=True)
                for user in by_name.values()
                if user.pk not in have_address
            ],
            batch_size=500,
        )
        return [by_name[username] for username in usernames]

    def pledges(self, slate: Slate, plan, supporters, organizations) -> int:
        rng = random.Random(SEED + 2)
        for number, item in enumerate(plan, start=1):
            supporter = supporters[item.supporter_index]
            state, referral = self.profiles[item.supporter_index]
            organization = organizations[referral] if referral is not None else None
            self.create(
                slate,
                item,
                supporter,
                state,
                organization,
                key=f"demo-{item.supporter_index + 1}-{item.kind}",
                card_saved_after=timedelta(seconds=rng.randint(20, 240)),
                partner_code=self.partner_code(organization, item.supporter_index),
            )
            if number % 100 == 0:
                _write(self.stdout, f"  {number} of {len(plan)} pledges")
        return len(plan)

    def partner_code(self, organization, supporter_index: int):
        """Most of an organization's members came by one of its sub-codes' links; every
        fourth by its plain link (no random draw: the pledges' plan stays as it was)."""
        if organization is None:
            return None
        codes = list(organization.codes.order_by("pk"))
        slot = supporter_index % (len(codes) + 1)
        return codes[slot] if slot < len(codes) else None

    def create(
        self, slate, item, supporter, state, referred_by, *, key, card_saved_after,
        partner_code=None,
    ):  # fmt: skip
        self.at(item.at)
        if item.kind == "signon":
            # Every other sign-on asked to be listed on the public roll.
            listed = item.supporter_index % 2 == 0
            return services.sign_on(
                supporter=supporter, slate=slate, supporter_state=state, referred_by=referred_by,
                partner_code=partner_code,
                public_name=signons.public_name(supporter.get_full_name()) if listed else "",
            )  # fmt: skip
        if item.kind == "volunteer":
            return services.create_volunteer_pledge(
                supporter=supporter,
                slate=slate,
                hours=item.hours,
                activities=item.activities,
                zip_code=item.zip_code,
                availability=item.availability,
                supporter_state=state,
                referred_by=referred_by,
                partner_code=partner_code,
                idempotency_key=key,
            )
        pledge = services.create_money_pledge(
            attestations=ATTESTED,
            supporter=supporter,
            slate=slate,
            amount_cents=item.amount_cents,
            supporter_state=state,
            condition_min_signatures=item.condition_min_signatures,
            referred_by=referred_by,
            partner_code=partner_code,
            idempotency_key=key,
            donor_details=_demo_donor_details(supporter, state),
        )
        self.at(min(item.at + card_saved_after, self.start))
        if self.save_card is not None:
            return self.save_card(pledge)
        return services.commit_money_pledge(pledge=pledge, reason="card saved (demo seed)")

    def referral_chains(self, slate: Slate, demo_supporter, supporters: list) -> None:
        """Sam's share link brought five people; the first of them brought three more."""
        for brought in supporters[:5]:
            referrals.attribute(
                slate=slate, supporter=brought, code=referrals.code_for(demo_supporter)
            )
        for brought in supporters[5:8]:
            referrals.attribute(
                slate=slate, supporter=brought, code=referrals.code_for(supporters[0])
            )

    def demo_supporter_pledges(self, slate: Slate, supporter, civic) -> int:
        """The supporter@ login has a little of everything, so its pages are not empty."""
        plan = [
            _PlannedPledge(at=self.ago(6), supporter_index=-1, kind="signon"),
            _PlannedPledge(at=self.ago(6), supporter_index=-1, kind="money", amount_cents=10_000),
            _PlannedPledge(
                at=self.ago(2),
                supporter_index=-1,
                kind="volunteer",
                hours=8,
                activities=(VolunteerActivity.CANVASSING, VolunteerActivity.PHONE_BANKING),
                zip_code="53703",
                availability="Weekends",
            ),
        ]
        for item in plan:
            self.create(
                slate,
                item,
                supporter,
                "WI",
                civic,
                key=f"demo-supporter-{item.kind}",
                card_saved_after=timedelta(minutes=2),
            )
        return len(plan)
