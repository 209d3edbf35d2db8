"""Template context for every page."""

from django.utils.functional import SimpleLazyObject

from . import selectors


def menu(request):
    """``menu``: the header's role links. Lazy: a page without the header (a fragment, an
    email) never asks the database."""
    user = getattr(request, "user", None)
    if user is None:
        return {"menu": selectors.NO_ROLES}
    return {"menu": SimpleLazyObject(lambda: selectors.menu_roles(user))}
