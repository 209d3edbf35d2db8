"""Who may do what, in one place per resource; every view names its permission classes."""

from datetime import datetime

from django.http import Http404
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission

from accounts.mfa import TwoFactorGap, session_second_factor_at, two_factor_gap
from slate import selectors as slate_selectors
from slate.models import PartnerOrganization, Slate

from .models import PersonalAccessToken


def visible_slate(request, slug: str) -> Slate:
    """A slate the user may see (public, or a draft they organize), else 404."""
    slate = slate_selectors.slates_visible_to(request.user).filter(slug=slug).first()
    if slate is None:
        raise Http404("No such slate.")
    return slate


def visible_organization(request, slug: str) -> PartnerOrganization:
    organization = (
        slate_selectors.partner_organizations_visible_to(request.user).filter(slug=slug).first()
    )
    if organization is None:
        raise Http404("No such organization.")
    return organization


class IsAuthenticated(BasePermission):
    message = "Log in or send a personal access token."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


def slate_named_in_body(request, slug: str) -> Slate:
    """A slate named by a request field: unknown or invisible is a field error, not a 404."""
    slate = slate_selectors.slates_visible_to(request.user).filter(slug=slug).first()
    if slate is None:
        raise ValidationError({"slate": ["No such slate."]})
    return slate


class TwoFactorRequired(PermissionDenied):
    """403 ``two_factor_required``: the account, or these credentials, lack the second factor."""

    default_code = "two_factor_required"


def credentials_second_factor_at(request) -> datetime | None:
    """When the credentials of this request passed the second factor: the token's login for
    a personal access token, this session's for the browser (None: never)."""
    if isinstance(request.auth, PersonalAccessToken):
        return request.auth.second_factor_at
    if isinstance(request.successful_authenticator, SessionAuthentication):
        return session_second_factor_at(request)
    return None


class TwoFactorForRoles(BasePermission):
    """The pages' rule, kept by the API too: organizers, candidates and partner-org admins act
    for their role only with two-factor authentication set up (accounts.mfa), and only with a
    session or token whose login passed it. The 403 says which, and what to do."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return True  # IsAuthenticated answers 401
        gap = two_factor_gap(user, second_factor_at=credentials_second_factor_at(request))
        if gap is None:
            return True
        if gap is TwoFactorGap.NOT_SET_UP:
            raise TwoFactorRequired(
                "Set up two-factor authentication (account security page, "
                f"{reverse('account_security')}) to act for your role."
            )
        if isinstance(request.auth, PersonalAccessToken):
            raise TwoFactorRequired(
                "This token was made without two-factor authentication (with a password alone, "
                "or before you set up two-factor or were given your role), so it cannot act for "
                f"your role. Log in with your authenticator code, make a new token at "
                f"{reverse('api:tokens-page')} and revoke this one."
            )
        raise TwoFactorRequired(
            "This login has not passed two-factor authentication (you logged in before you set "
            "it up or were given your role). Enter your authenticator code at "
            f"{reverse('mfa_reauthenticate')}, then try again."
        )
