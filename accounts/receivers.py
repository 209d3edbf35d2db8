"""Setting up TOTP proves the second factor in the session that did it.

allauth's activation form checks a code from the new authenticator, but records no
authentication step for it; without one, the person who has just set up two-factor would be
asked for a second code at once. Sessions elsewhere (older logins) get no such record and
must enter a code before they act for a role again (``accounts.mfa.two_factor_gap``).
"""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver


@receiver(authenticator_added, dispatch_uid="accounts-totp-activation-passes-second-factor")
def record_totp_activation(sender, request, user, authenticator, **kwargs):
    if authenticator.type != Authenticator.Type.TOTP or request is None:
        return
    if getattr(request, "user", None) is None or request.user.pk != user.pk:
        return
    # The same record allauth writes after a code at login ({"method": "mfa", ...}).
    record_authentication(
        request, user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True
    )
