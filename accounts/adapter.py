from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from .mfa import mfa_required_roles


class SlateMFAAdapter(DefaultMFAAdapter):
    """People whose role requires two-factor authentication cannot turn off their TOTP."""

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.TOTP and mfa_required_roles(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
