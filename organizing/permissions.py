"""Who may see an organizer's or a partner organization's pages.

Anonymous visitors are sent to log in (``login_required`` on every view); a logged-in user
who is not an organizer of *this* slate, an admin of *this* organization, or staff gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from slate import selectors as slate_selectors
from slate.models import PartnerOrganization, Slate


def organizer_slate(request, slug: str) -> Slate:
    slate = get_object_or_404(Slate, slug=slug)
    if not slate_selectors.is_organizer(request.user, slate):
        raise PermissionDenied("Only this slate's organizers may open this page.")
    return slate


def admin_organization(request, slug: str) -> PartnerOrganization:
    organization = get_object_or_404(PartnerOrganization, slug=slug)
    if not slate_selectors.is_partner_admin(request.user, organization):
        raise PermissionDenied("Only this organization's admins may open this page.")
    return organization
