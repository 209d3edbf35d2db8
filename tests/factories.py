"""Test data built through the real services, so every object is in a state the app can reach.

Slates, candidates and signatures are built by ``demo.builders``, as the demo and the
benchmarks build theirs; this module adds the test users (factory_boy) and their two-factor.
"""

import itertools
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.mfa import activate_totp, totp_code
from candidates import services as candidate_services
from candidates.models import Candidate
from demo import builders
from slate import lifecycle as slate_lifecycle
from slate import partners as slate_partners
from slate.models import Slate

User = get_user_model()
_sequence = itertools.count(1)

STATES = ["CA", "NY", "TX", "PA", "OH", "MI", "WI", "AZ", "GA", "NC"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True  # the hook below writes its own row, not the user

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def verified_email(user, create, extracted, **kwargs):
        """allauth's record of the address, verified (two-factor needs a verified address)."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


# Organizers, candidates and partner-org admins must use two-factor authentication; test
# users in those roles get a TOTP authenticator with this secret (see ``current_totp_code``).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def with_totp(user: User) -> User:
    """Give ``user`` a TOTP authenticator with ``TEST_TOTP_SECRET``."""
    activate_totp(user, TEST_TOTP_SECRET)
    return user


def current_totp_code() -> str:
    return totp_code(TEST_TOTP_SECRET)


def make_staff() -> User:
    """A staff member as in production: with two-factor (required for staff)."""
    return with_totp(UserFactory(is_staff=True))


def make_draft_slate(
    *,
    organizer: User | None = None,
    min_signatures: int = 3,
    min_money_cents: int = 0,
    min_volunteer_hours: int = 0,
    deadline=None,
) -> Slate:
    organizer = with_totp(organizer or UserFactory())
    return builders.draft_slate(
        organizer=organizer,
        name=f"Test slate {next(_sequence)}",
        deadline=deadline or timezone.now() + timedelta(days=30),
        min_signatures=min_signatures,
        min_money_cents=min_money_cents,
        min_volunteer_hours=min_volunteer_hours,
    )


def make_candidate(*, organizer: User, state: str = "CA", verified: bool = True) -> Candidate:
    """A candidate whose profile is claimed by a fresh user with two-factor on; an organizer
    still has to verify it (``verify``)."""
    number = next(_sequence)
    # claim_candidate returns the row as it read it under its lock, after the claim.
    return builders.claimed_candidate(
        organizer=organizer,
        user=with_totp(UserFactory()),
        full_name=f"Candidate Number{number}",
        state=state,
        district=str(number % 50 + 1),
    )


def verify(candidate: Candidate, organizer: User) -> Candidate:
    return candidate_services.verify_candidate(candidate=candidate, actor=organizer)


def make_open_slate(
    *,
    candidates: int = 5,
    min_signatures: int = 3,
    min_money_cents: int = 0,
    min_volunteer_hours: int = 0,
    required: int = 0,
) -> Slate:
    """An open slate with ``candidates`` invited, claimed and verified candidates, the first
    ``required`` of them required, and a published agreement."""
    organizer = UserFactory()
    slate = make_draft_slate(
        organizer=organizer,
        min_signatures=min_signatures,
        min_money_cents=min_money_cents,
        min_volunteer_hours=min_volunteer_hours,
    )
    for index in range(candidates):
        candidate = make_candidate(organizer=organizer, state=STATES[index % len(STATES)])
        builders.invite_and_verify(
            slate=slate, candidate=candidate, organizer=organizer, is_required=index < required
        )
    builders.publish_agreement(slate=slate, organizer=organizer)
    slate_lifecycle.open_slate(slate=slate, actor=organizer)
    slate.refresh_from_db()
    return slate


def organizer_of(slate: Slate) -> User:
    return slate.organizers.first()


def slate_candidates(slate: Slate) -> list[Candidate]:
    return list(
        Candidate.objects.filter(invitations__slate=slate).order_by("invitations__created_at", "id")
    )


def sign(candidate: Candidate, slate: Slate):
    return builders.sign(candidate, slate)


# Once locked, a slate moves on by itself (escrow releases the money), so tests that only
# care that the lock happened accept any state from "locked" on.
LOCKED_OR_LATER = ("locked", "releasing", "released")


def make_partner_organization(
    *, name: str, endorse: Slate | None = None, admin: User | None = None, verified: bool = True
):
    """A partner organization administered by ``admin`` (a fresh user with two-factor on, by
    default), verified by staff unless told otherwise, endorsing ``endorse`` when given."""
    admin = with_totp(admin or UserFactory())
    organization = slate_partners.create_partner_organization(name=name, kind="union", admin=admin)
    if verified:
        slate_partners.verify_partner_organization(organization=organization, actor=make_staff())
    if endorse is not None:
        slate_partners.endorse_slate(organization=organization, slate=endorse, actor=admin)
    return organization


def transactional(messages) -> list:
    """The emails among ``messages`` that go out whatever the recipient's preferences (no
    List-Unsubscribe header): what a test of a pledge or payment email looks at, beside the
    milestone news a lock or release also sends."""
    return [m for m in messages if "List-Unsubscribe" not in m.extra_headers]
