"""The slate lifecycle as one table of allowed transitions."""

from django.db import models


class SlateState(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"  # a new organizer's first slate, waiting for staff
    OPEN = "open", "Open"
    LOCKED = "locked", "Locked"
    RELEASING = "releasing", "Releasing"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"
    VOIDED = "voided", "Voided"


SLATE_TRANSITIONS: dict[str, frozenset[str]] = {
    # Published at once, or (a new organizer's first slate) sent to staff for review first.
    SlateState.DRAFT: frozenset({SlateState.OPEN, SlateState.REVIEW}),
    # Staff approve it (it opens) or return it to a draft, saying why.
    SlateState.REVIEW: frozenset({SlateState.OPEN, SlateState.DRAFT}),
    SlateState.OPEN: frozenset({SlateState.LOCKED, SlateState.EXPIRED}),
    SlateState.LOCKED: frozenset({SlateState.RELEASING}),
    SlateState.RELEASING: frozenset({SlateState.RELEASED}),
    SlateState.RELEASED: frozenset(),
    SlateState.EXPIRED: frozenset({SlateState.VOIDED}),
    SlateState.VOIDED: frozenset(),
}


def slate_transition_allowed(from_state: str, to_state: str) -> bool:
    return to_state in SLATE_TRANSITIONS.get(from_state, frozenset())
