"""Who may do what, in one place per resource; every view names its permission classes."""

from django.http import Http404
from rest_framework.permissions import BasePermission

from slate import selectors as slate_selectors
from slate.models import PartnerOrganization, Slate


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
    from rest_framework.exceptions import ValidationError

    slate = slate_selectors.slates_visible_to(request.user).filter(slug=slug).first()
    if slate is None:
        raise ValidationError({"slate": ["No such slate."]})
    return slate


class TwoFactorForRoles(BasePermission):
    """The pages' rule, kept by the API too: organizers, candidates and partner-org admins act
    for their role only with two-factor authentication set up (accounts.mfa)."""

    message = "Set up two-factor authentication (account security page) to act for your role."

    def has_permission(self, request, view) -> bool:
        from accounts.mfa import has_totp, mfa_required_roles

        user = request.user
        if not (user and user.is_authenticated):
            return True  # IsAuthenticated answers 401
        return has_totp(user) or not mfa_required_roles(user)
