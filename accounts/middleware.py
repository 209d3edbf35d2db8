"""The single choke point for two-factor authentication on pages that act for a role."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from .mfa import has_totp, mfa_required_roles

# Pages in these URL namespaces act for an organizer, a candidate, a partner organization, a
# campaign or (the admin) Slate's staff.
DEFAULT_GUARDED_NAMESPACES = ("organize", "orgs", "candidates", "volunteer_hosts", "admin")


class RequireMFAMiddleware:
    """Sends people whose role requires two-factor (``accounts.mfa.mfa_required_roles``) and
    who have no TOTP to set it up before any page in the guarded namespaces runs. Setting up
    two-factor and logging out live under /accounts/ (allauth), outside those namespaces, so
    they stay reachable. The admin's own login form is replaced by allauth's (slate.urls), so
    it cannot skip the code either."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.namespaces = frozenset(
            getattr(settings, "SLATE_MFA_GUARDED_NAMESPACES", DEFAULT_GUARDED_NAMESPACES)
        )

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or not self.namespaces.intersection(match.namespaces):
            return None
        user = request.user
        if not user.is_authenticated or has_totp(user):
            return None
        roles = mfa_required_roles(user)
        if not roles:
            return None
        messages.warning(
            request,
            f"As {_with_article(' and '.join(roles))} you need two-factor authentication "
            "before you can use this page. Set up an authenticator app below; it takes a minute.",
        )
        return redirect("mfa_activate_totp")


def _with_article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase
