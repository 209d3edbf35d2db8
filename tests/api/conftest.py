"""A small world with one user per role, and API clients that authenticate as them."""

from dataclasses import dataclass

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.mfa import has_totp
from api import services as api_services
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from slate import partners as slate_partners
from slate.models import PartnerOrganization, Slate
from tests.factories import (
    UserFactory,
    make_open_slate,
    make_staff,
    organizer_of,
    sign,
    slate_candidates,
    with_totp,
)

ROLES = (
    "anonymous",
    "supporter",
    "other_supporter",
    "candidate",
    "other_candidate",
    "organizer",
    "other_organizer",
    "partner_admin",
    "staff",
)


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """The API's write limits, and allauth's login-failure limits (the default cache), which
    HTTP Basic on POST /api/v1/tokens spends: every test client comes from 127.0.0.1."""
    for cache in (caches["api"], caches["default"]):
        cache.clear()
    yield
    for cache in (caches["api"], caches["default"]):
        cache.clear()


@dataclass
class World:
    slate: Slate
    other_slate: Slate
    organization: PartnerOrganization
    pledge: Pledge  # the supporter's money pledge on ``slate``
    users: dict

    def client(self, role: str) -> APIClient:
        """The role's script, with a token made as people make theirs: from a login that
        passed two-factor when the account has it (a password alone otherwise)."""
        client = APIClient()
        if role != "anonymous":
            user = self.users[role]
            _, raw = api_services.create_token(
                user=user, name=f"{role} tests",
                second_factor_at=timezone.now() if has_totp(user) else None,
            )  # fmt: skip
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client


@pytest.fixture
def world(db) -> World:
    slate = make_open_slate(candidates=3, min_signatures=3)
    other_slate = make_open_slate(candidates=2, min_signatures=2)
    signed, candidate = slate_candidates(slate)[:2]
    sign(signed, slate)  # someone has signed; the "candidate" role has not yet
    partner_admin = with_totp(UserFactory())
    organization = slate_partners.create_partner_organization(
        name="Test Union", kind="union", admin=partner_admin
    )
    staff = make_staff()
    slate_partners.verify_partner_organization(organization=organization, actor=staff)
    slate_partners.endorse_slate(organization=organization, slate=slate, actor=partner_admin)
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=supporter, slate=slate, amount_cents=2_500, supporter_state="CA",
        referred_by=organization,
    )  # fmt: skip
    users = {
        "supporter": supporter,
        "other_supporter": UserFactory(),
        "candidate": candidate.user,
        "other_candidate": slate_candidates(other_slate)[0].user,
        "organizer": organizer_of(slate),
        "other_organizer": organizer_of(other_slate),
        "partner_admin": partner_admin,
        "staff": staff,
    }
    slate.refresh_from_db()
    return World(
        slate=slate, other_slate=other_slate, organization=organization, pledge=pledge,
        users=users,
    )  # fmt: skip
