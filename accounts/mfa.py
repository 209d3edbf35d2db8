"""Two-factor authentication: who must have it, and TOTP helpers for tests and the demo.

Slate uses allauth's MFA (TOTP plus recovery codes). Everyone may turn it on; people who can
move or unlock money or see donors' details must: organizers, claimed candidates,
partner-organization admins, campaign staff and Slate's own staff (the admin, refunds,
donor merges, every slate's reports). ``RequireMFAMiddleware`` is the one place that
enforces it on pages; the API's ``TwoFactorForRoles`` keeps the same rule.
"""

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings

from candidates.models import Candidate
from slate.models import PartnerOrganization, SlateOrganizer
from volunteers.models import CampaignStaff


def mfa_required_roles(user) -> list[str]:
    """The roles of ``user`` that require two-factor authentication (empty when none do)."""
    if not user.is_authenticated:
        return []
    roles = []
    if SlateOrganizer.objects.filter(user=user).exists():
        roles.append("organizer")
    if Candidate.objects.filter(user=user).exists():
        roles.append("candidate")
    if PartnerOrganization.objects.filter(admins=user).exists():
        roles.append("partner organization admin")
    if CampaignStaff.objects.filter(user=user).exists():
        roles.append("campaign staff member")  # sees volunteers' contact details
    if user.is_staff:
        roles.append("Slate staff member")  # the admin: donors, refunds, every slate
    return roles


def has_totp(user) -> bool:
    return (
        user.is_authenticated
        and Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


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
