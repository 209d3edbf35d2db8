"""Invitation links: a signed token naming one invitation, so no token table is needed.

The link only lets its holder *claim* the invited profile; an organizer still verifies the
account before the candidate can sign, which is what makes a leaked link harmless. A link
stops working when the invitation is revoked or declined, and after ``CLAIM_LINK_MAX_AGE``.
"""

from datetime import timedelta

from django.core import signing
from django.urls import reverse

from .models import Invitation

SALT = "candidates.invitation-claim"
CLAIM_LINK_MAX_AGE = timedelta(days=60)


def claim_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=SALT, compress=True)


def claim_path(invitation: Invitation) -> str:
    return reverse("candidates:claim", args=[claim_token(invitation)])


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a token names, or None when the token is forged, stale or unknown."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=CLAIM_LINK_MAX_AGE)
        invitation_id = int(payload["invitation"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Invitation.objects.select_related("candidate", "slate", "candidate__user")
        .filter(pk=invitation_id)
        .first()
    )
