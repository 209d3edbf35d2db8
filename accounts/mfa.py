"""Two-factor authentication: who must have it, and TOTP helpers for tests and the demo.

Slate uses allauth's MFA (TOTP plus recovery codes). Everyone may turn it on; people who can
move or unlock money or see donors' details must: organizers, claimed candidates,
partner-organization admins, campaign staff and Slate's own staff (the admin, refunds,
donor merges, every slate's reports). ``RequireMFAMiddleware`` is the one place that
enforces it on pages; the API's ``TwoFactorForRoles`` keeps the same rule.

Having TOTP on the account is not enough: the credentials in hand must have passed it. A
session passed it when allauth recorded an ``mfa`` step in it (the code at login, at
re-authentication, or the first code when TOTP was set up in that session:
``accounts.receivers``); a personal access token passed it when the session that made it had
(``PersonalAccessToken.second_factor_at``). A password-only session or token of someone who
gains a role or sets up TOTP later keeps working, but not for the role.
"""

import enum
import time
from datetime import UTC, datetime

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from candidates.models import Candidate
from slate.models import PartnerOrganization, SlateOrganizer
from volunteers.models import CampaignStaff

# The session key of the page to go back to once two-factor is set up (accounts.middleware
# stores it, accounts.receivers offers it).
RETURN_AFTER_SETUP = "slate_after_two_factor_setup"


def _role_rows(user) -> list[tuple[str, QuerySet]]:
    """The roles that require two-factor and come from rows, each with the rows that give
    ``user`` (a user, or ``OuterRef`` to one in a query over users) that role."""
    return [
        ("organizer", SlateOrganizer.objects.filter(user=user)),
        ("candidate", Candidate.objects.filter(user=user)),
        ("partner organization admin", PartnerOrganization.objects.filter(admins=user)),
        # sees volunteers' contact details
        ("campaign staff member", CampaignStaff.objects.filter(user=user)),
    ]


def mfa_required_roles(user) -> list[str]:
    """The roles of ``user`` that require two-factor authentication (empty when none do)."""
    if not user.is_authenticated:
        return []
    roles = [role for role, rows in _role_rows(user) if rows.exists()]
    if user.is_staff:
        roles.append("Slate staff member")  # the admin: donors, refunds, every slate
    return roles


def with_required_roles(users: QuerySet) -> QuerySet:
    """The users among ``users`` that ``mfa_required_roles`` gives a role, in one query."""
    held = Q(is_staff=True)
    for _, rows in _role_rows(OuterRef("pk")):
        held |= Q(Exists(rows))
    return users.filter(held)


def has_totp(user) -> bool:
    return (
        user.is_authenticated
        and Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


class TwoFactorGap(enum.Enum):
    """Why credentials may not act for the user's roles."""

    NOT_SET_UP = "not_set_up"  # the account has no TOTP
    NOT_THIS_LOGIN = "not_this_login"  # it has, but these credentials did not pass it


def session_second_factor_at(request) -> datetime | None:
    """When this session last passed the second factor: the latest ``mfa`` step in allauth's
    record of the session's authentication steps (``allauth.account.authentication``), which
    allauth keeps for the user logged in now only."""
    times = [
        record["at"]
        for record in get_authentication_records(request, request.user)
        if record.get("method") == "mfa" and isinstance(record.get("at"), int | float)
    ]
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None


def two_factor_gap(
    user, *, second_factor_at: datetime | None, required: bool | None = None
) -> TwoFactorGap | None:
    """None when credentials that passed the second factor at ``second_factor_at`` (None:
    never) may act for ``user``'s roles. ``required`` defaults to "``user`` has a role that
    requires two-factor"; pass True where everyone needs it. The factor must have been passed
    with the authenticator the account has now: one replaced since does not count."""
    if required is None:
        required = bool(mfa_required_roles(user))
    if not required:
        return None
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        return TwoFactorGap.NOT_SET_UP
    if second_factor_at is None or second_factor_at < totp.created_at:
        return TwoFactorGap.NOT_THIS_LOGIN
    return None


def activate_totp(user, secret: str) -> Authenticator:
    """Give ``user`` a TOTP authenticator with a known secret (tests and the demo only; people
    activate theirs on the account security page)."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return existing
    return TOTP.activate(user, secret).instance


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now for ``secret``."""
    counter = int(at if at is not None else time.time()) // getattr(settings, "MFA_TOTP_PERIOD", 30)
    return format_hotp_value(hotp_value(secret, counter))
