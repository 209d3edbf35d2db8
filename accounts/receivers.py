"""Setting up TOTP proves the second factor in the session that did it.

allauth's activation form checks a code from the new authenticator, but records no
authentication step for it; without one, the person who has just set up two-factor would be
asked for a second code at once. Sessions elsewhere (older logins) get no such record and
must enter a code before they act for a role again (``accounts.mfa.two_factor_gap``).
"""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.contrib import messages
from django.dispatch import receiver
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from .mfa import RETURN_AFTER_SETUP


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


@receiver(authenticator_added, dispatch_uid="accounts-totp-activation-offers-the-way-back")
def offer_the_page_that_asked(sender, request, user, authenticator, **kwargs):
    """Whoever was sent to set up two-factor from a page gets a link back to it, beside the
    recovery codes allauth shows next (and should be saved first)."""
    if authenticator.type != Authenticator.Type.TOTP or request is None:
        return
    back = request.session.pop(RETURN_AFTER_SETUP, None)
    if not back or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return
    messages.success(
        request,
        format_html(
            'Two-factor authentication is on. Save your recovery codes below, then <a href="{}">'
            "go back to where you were</a>.",
            back,
        ),
    )
