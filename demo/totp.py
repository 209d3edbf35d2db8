"""Two-factor for the demo's organizer, candidate and partner-admin accounts.

Those roles must use TOTP, so the demo gives their accounts one published secret (like the
published demo password) instead of a switch that turns two-factor off: the demo then walks
the same login as production, and nothing in the settings can weaken it by mistake.
``manage.py demo_totp_code`` prints the current code; any authenticator app works as well.
"""

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model

from accounts.mfa import activate_totp, totp_code, with_required_roles

# Public by design, like the demo password: printed in the `make run` banner.
DEMO_TOTP_SECRET = "SLATEDEMOSLATEDEMOSLATEDEMO23456"  # noqa: S105


def ensure_demo_totp(*, domain: str) -> int:
    """Give every demo account at ``domain`` whose role requires two-factor a TOTP with the
    demo secret. Idempotent; returns how many accounts got one now."""
    accounts = get_user_model().objects.filter(email__iendswith=f"@{domain}")
    # One query for the few who need one, not a few per demo account (some 300 supporters).
    needing = with_required_roles(accounts).exclude(authenticator__type=Authenticator.Type.TOTP)
    added = 0
    for user in needing.order_by("pk"):
        activate_totp(user, DEMO_TOTP_SECRET)
        added += 1
    return added


def demo_totp_code() -> str:
    return totp_code(DEMO_TOTP_SECRET)
