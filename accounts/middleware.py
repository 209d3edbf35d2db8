"""The single choke point for two-factor authentication on pages that act for a role."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .mfa import (
    RETURN_AFTER_SETUP,
    TwoFactorGap,
    mfa_required_roles,
    session_second_factor_at,
    two_factor_gap,
)

# Pages in these URL namespaces act for an organizer, a candidate, a partner organization, a
# campaign or (the admin) Slate's staff.
DEFAULT_GUARDED_NAMESPACES = ("organize", "orgs", "candidates", "volunteer_hosts", "admin")
# Pages that make their visitor an organizer: two-factor is asked of everyone before them,
# not only of those who hold a role already.
BECOME_ORGANIZER_PAGES = {
    "organize:new": "Organizers hold supporters' pledges in trust, so starting a slate needs "
    "two-factor authentication.",
    "organize:join": "Organizers hold supporters' pledges in trust, so joining a slate's "
    "organizers needs two-factor authentication.",
}


class RequireMFAMiddleware:
    """Sends people whose role requires two-factor (``accounts.mfa.mfa_required_roles``)
    before any page in the guarded namespaces runs: without TOTP, to set it up; with TOTP but
    a login that did not pass it (they logged in before they set it up or were given the
    role), to enter a code. Two-factor pages and logging out live under /accounts/
    (allauth), outside those namespaces, so they stay reachable. The admin's own login form is
    replaced by allauth's (slate.urls), so it cannot skip the code either."""

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
        reason = BECOME_ORGANIZER_PAGES.get(match.view_name)
        if reason is not None:
            return two_factor_redirect(request, required=True, reason=reason)
        return two_factor_redirect(request)


def two_factor_redirect(
    request, *, required: bool | None = None, reason: str | None = None
) -> HttpResponseRedirect | None:
    """None when this login may act for the user's roles; otherwise a redirect, with a message
    saying why, to set up TOTP or to enter a code. ``required=True`` asks it of everyone
    (``reason`` then says why); by default only of the roles that require it."""
    user = request.user
    if not user.is_authenticated:
        return None  # the page's own login check answers
    gap = two_factor_gap(
        user, second_factor_at=session_second_factor_at(request), required=required
    )
    if gap is None:
        return None
    roles = mfa_required_roles(user)
    who = f"As {_with_article(' and '.join(roles))} you" if roles else "You"
    why = reason or f"{who} need two-factor authentication before you can use this page."
    if gap is TwoFactorGap.NOT_SET_UP:
        messages.warning(request, f"{why} Set up an authenticator app below; it takes a minute.")
        # Offered back once the authenticator is on (accounts.receivers): allauth's setup
        # ends on the recovery codes, with no way back to the page that sent them there.
        request.session[RETURN_AFTER_SETUP] = _back_to(request)
        return redirect("mfa_activate_totp")
    messages.warning(
        request,
        f"{why} This login has not passed it: you logged in before two-factor was set up or "
        "before you were given this role. Enter the code from your authenticator app to go on.",
    )
    query = urlencode({"next": _back_to(request)})
    return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")


def _back_to(request) -> str:
    """Where to continue after the code: this page, or for a form post, the form's page."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def _with_article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase
