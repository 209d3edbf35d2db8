"""Reads about the logged-in account that every page needs."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from candidates.models import Candidate
from slate.models import SlateOrganizer


@dataclass(frozen=True)
class MenuRoles:
    """Which role links the page header shows: Organize, Candidate."""

    organizes: bool
    candidate: bool


NO_ROLES = MenuRoles(organizes=False, candidate=False)


def menu_roles(user) -> MenuRoles:
    """Both roles in one query (the header is on every page a supporter sees: asking each
    role on its own cost two queries a page). Read fresh on each request, so a role given a
    moment ago shows on the next page."""
    if not user.is_authenticated:
        return NO_ROLES
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values(
            organizes=Exists(SlateOrganizer.objects.filter(user=OuterRef("pk"))),
            candidate=Exists(Candidate.objects.filter(user=OuterRef("pk"))),
        )
        .first()
    )
    return MenuRoles(**row) if row is not None else NO_ROLES
