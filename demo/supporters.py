"""The demo's supporters and their pledges: who they are, what each pledges and when (all
decided by a seeded generator first, then made in time order through the pledge services).

``SupporterSeeding`` is the seeder's part that makes them (``demo.seed._Seeder`` mixes it in:
it provides the clock, the generator and the password hash).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress

from pledges import intake, referrals, services, signons
from pledges.declarations import ATTESTED
from pledges.models import VolunteerActivity
from slate.models import Slate

from .story import DEMO_DOMAIN, PLEDGE_WINDOW_DAYS

SUPPORTER_COUNT = 300
SEED = 2026

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


def demo_donor_details(supporter, state: str) -> dict[str, str]:
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


@dataclass
class PlannedPledge:
    at: datetime
    supporter_index: int
    kind: str
    amount_cents: int = 0
    condition_min_signatures: int | None = None
    hours: int = 0
    activities: tuple[str, ...] = ()
    zip_code: str = ""
    availability: str = ""


def write(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def code_for_supporter(codes: dict[int, list], organization, supporter_index: int):
    """Most of an organization's members came by one of its sub-codes' links (``codes``: each
    organization's, by its id), the rest by its plain link: chosen by the supporter's number,
    not drawn, so the generator's draws (and with them the whole plan) stay as they were."""
    if organization is None:
        return None
    slots = codes[organization.pk]
    slot = supporter_index % (len(slots) + 1)
    return slots[slot] if slot < len(slots) else None


class SupporterSeeding:
    def plan_pledges(self) -> list[PlannedPledge]:
        """Decide everything with the seeded generator first, then create in time order."""
        rng = self.rng
        window = PLEDGE_WINDOW_DAYS * 86_400
        states = list(SUPPORTER_STATES)
        state_weights = [SUPPORTER_STATES[s][0] for s in states]
        self.profiles: list[tuple[str, int | None]] = []  # (state, partner index or None)
        plan: list[PlannedPledge] = []
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
                item = PlannedPledge(
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

    def supporters(self, plan: list[PlannedPledge]) -> list:
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
        codes = {
            organization.pk: list(organization.codes.order_by("pk"))
            for organization in organizations
        }
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
                partner_code=code_for_supporter(codes, organization, item.supporter_index),
            )
            if number % 100 == 0:
                write(self.stdout, f"  {number} of {len(plan)} pledges")
        return len(plan)

    def create(
        self, slate, item, supporter, state, referred_by, *, key, card_saved_after,
        partner_code=None,
    ):  # fmt: skip
        self.at(item.at)
        if item.kind == "signon":
            # Every other sign-on asked to be listed on the public roll.
            listed = item.supporter_index % 2 == 0
            return intake.sign_on(
                supporter=supporter, slate=slate, supporter_state=state, referred_by=referred_by,
                partner_code=partner_code,
                public_name=signons.public_name(supporter.get_full_name()) if listed else "",
            )  # fmt: skip
        if item.kind == "volunteer":
            return intake.create_volunteer_pledge(
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
        pledge = intake.create_money_pledge(
            attestations=ATTESTED,
            supporter=supporter,
            slate=slate,
            amount_cents=item.amount_cents,
            supporter_state=state,
            condition_min_signatures=item.condition_min_signatures,
            referred_by=referred_by,
            partner_code=partner_code,
            idempotency_key=key,
            donor_details=demo_donor_details(supporter, state),
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
            PlannedPledge(at=self.ago(6), supporter_index=-1, kind="signon"),
            PlannedPledge(at=self.ago(6), supporter_index=-1, kind="money", amount_cents=10_000),
            PlannedPledge(
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
