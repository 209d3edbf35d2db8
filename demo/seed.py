"""Demo data for `make run` and for trying Slate by hand: one open slate, eight candidates,
two partner organizations and about 300 supporters, all built through the services so the
maintained totals, histories and breakdowns are exactly what real use would produce.

``seed_demo`` is idempotent: when the demo slate exists it changes nothing.

Backdating: the story is spread over the last three weeks (slate published 22 days ago,
pledges over the last 21 days) so the daily growth breakdown has data: the seed runs the
services under the demo clock (``demo.clock``).
"""

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from candidates import asks
from candidates import invitations as candidate_invitations
from candidates import services as candidate_services
from candidates.models import Candidate
from pledges import notifications
from pledges.models import Pledge
from slate import lifecycle as slate_lifecycle
from slate import partners as slate_partners
from slate.models import PartnerOrganization, Slate

from . import builders
from . import candidate_story as candidate_demo
from .clock import Clock, demo_clock
from .story import (
    ADMIN_EMAIL,
    AGREEMENT_TEXT,
    AGREEMENT_TITLE,
    CANDIDATES,
    CIVIC_ADMIN_EMAIL,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    DEMO_SLATE_NAME,
    DEMO_SLATE_SLUG,
    DRAFT_CANDIDATES,
    DRAFT_SLATE_NAME,
    DRAFT_SLATE_SLUG,
    ENDORSED_DAYS_AGO,
    MISSION,
    OPENED_DAYS_AGO,
    ORGANIZER_EMAIL,
    PARTNER_CODES,
    PLANKS,
    SETUP_DAYS_AGO,
    SIGNED_DAYS_AGO,
    SIGNERS,
    SUPPORTER_EMAIL,
    UNION_ADMIN_EMAIL,
    DemoLogins,
)
from .supporters import SEED, SupporterSeeding, write
from .totp import ensure_demo_totp


def seed_demo(*, stdout=None, save_card: Callable[[Pledge], Pledge] | None = None) -> DemoLogins:
    """Create the demo data unless the demo slate exists. Returns the demo logins.

    ``save_card`` saves a test card for a new money pledge and commits it (the escrow app
    passes one when a Stripe, or the local fake, is configured); without it money pledges are
    committed directly and simply voided if the demo slate ever locks.
    """
    if Slate.objects.filter(slug=DEMO_SLATE_SLUG).exists():
        # Databases seeded before two-factor was required get the demo TOTP now.
        ensure_demo_totp(domain=DEMO_DOMAIN)
        write(stdout, f"Demo data already present (slate {DEMO_SLATE_SLUG!r}); nothing to do.")
        return DemoLogins()
    started = time.monotonic()
    write(stdout, "Seeding demo data...")
    # One transaction: a failed seed leaves nothing behind, so the next run starts afresh.
    # No confirmation emails for a few hundred made-up supporters.
    with notifications.quiet(), transaction.atomic(), demo_clock() as clock:
        pledge_count = _Seeder(clock, stdout, save_card).run()
        ensure_demo_totp(domain=DEMO_DOMAIN)
    seconds = time.monotonic() - started
    write(stdout, f"Seeded {pledge_count} pledges in {seconds:.1f} s.")
    return DemoLogins(created=True, pledge_count=pledge_count, seconds=seconds)


class _Seeder(SupporterSeeding):
    def __init__(self, clock: Clock, stdout, save_card=None):
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
        slate = builders.draft_slate(
            organizer=organizer,
            name=DEMO_SLATE_NAME,
            slug=DEMO_SLATE_SLUG,
            mission=MISSION,
            deadline=self.start + timedelta(days=60),
            min_signatures=5,
            planks=PLANKS,
        )
        candidates = self.candidates(slate, organizer)

        self.at(self.ago(SETUP_DAYS_AGO - 1))
        builders.publish_agreement(
            slate=slate, organizer=organizer, title=AGREEMENT_TITLE, text=AGREEMENT_TEXT
        )

        self.at(self.ago(OPENED_DAYS_AGO))
        slate = slate_lifecycle.open_slate(slate=slate, actor=organizer)
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
        slate = builders.draft_slate(
            organizer=organizer,
            name=DRAFT_SLATE_NAME,
            slug=DRAFT_SLATE_SLUG,
            mission="Six races around the Great Lakes in 2028, one shared program.",
            deadline=self.start + timedelta(days=400),
            min_signatures=2,
            planks=PLANKS[:3],
        )
        for name, office, state, district, email in DRAFT_CANDIDATES:
            invitation = candidate_invitations.invite_new_candidate(
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
            candidate = builders.claimed_candidate(
                organizer=organizer,
                user=self.user(email, first, last),
                full_name=name,
                office=office,
                state=state,
                district=district,
                party=party,
                website=f"https://{slugify(name).replace('-', '')}.example.org",
                **candidate_demo.public_contact(name),
            )
            if name in candidate_demo.STATEMENTS:
                candidate = candidate_services.update_public_profile(
                    candidate=candidate, actor=candidate.user,
                    statement=candidate_demo.STATEMENTS[name], website=candidate.website,
                )  # fmt: skip
            result.append(
                builders.invite_and_verify(slate=slate, candidate=candidate, organizer=organizer)
            )
        return result

    def partners(self, slate: Slate, staff, union_admin, civic_admin):
        union = slate_partners.create_partner_organization(
            name="Great Lakes United Service Workers, Local 1147",
            kind=PartnerOrganization.Kind.UNION,
            admin=union_admin,
            website="https://local1147.example.org",
        )
        civic = slate_partners.create_partner_organization(
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
            slate_partners.verify_partner_organization(organization=organization, actor=staff)
            slate_partners.endorse_slate(
                organization=organization, slate=slate, actor=admin, statement=statement
            )
        # Sub-codes: a chapter's, a mailing's or an event's own links (pledges() uses them).
        for organization, admin, codes in (
            (union, union_admin, PARTNER_CODES["union"]),
            (civic, civic_admin, PARTNER_CODES["civic"]),
        ):
            for code, label, kind in codes:
                slate_partners.create_partner_code(
                    organization=organization, actor=admin, label=label, kind=kind, code=code
                )
        return [union, civic]

    def signatures(self, slate: Slate, signers: list[Candidate]) -> None:
        for number, (candidate, days_ago) in enumerate(
            zip(signers, SIGNED_DAYS_AGO, strict=True), start=10
        ):
            self.at(self.ago(days_ago))
            builders.sign(
                candidate,
                slate,
                ip_address=f"203.0.113.{number}",
                user_agent="Mozilla/5.0 (demo seed)",
                reservations=candidate_demo.RESERVATIONS.get(candidate.full_name),
            )

    def decline(self, slate: Slate, organizer) -> None:
        """A ninth candidate, invited late, declines in public with a reason."""
        name, office, state, district, party, account = candidate_demo.DECLINER
        self.at(self.ago(18))
        first, _, last = name.partition(" ")
        candidate = builders.claimed_candidate(
            organizer=organizer, user=self.user(f"{account}@{DEMO_DOMAIN}", first, last),
            full_name=name, office=office, state=state, district=district, party=party,
            **candidate_demo.public_contact(name),
        )  # fmt: skip
        invitation = candidate_invitations.invite_candidate(
            slate=slate, candidate=candidate, actor=organizer
        )
        self.at(self.ago(9))
        candidate_invitations.respond_to_invitation(
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
