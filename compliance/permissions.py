"""Who may download a candidate committee's contribution report: staff, the committee's
treasurers (every slate), and the organizers of a slate the candidate is on (that slate)."""

from candidates.models import Candidate, Invitation
from slate.models import Slate
from slate.selectors import is_organizer

from .models import Treasurer


def can_export(user, candidate: Candidate, slate: Slate | None) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff or Treasurer.objects.filter(user=user, candidate=candidate).exists():
        return True
    return (
        slate is not None
        and is_organizer(user, slate)
        and Invitation.objects.filter(slate=slate, candidate=candidate).exists()
    )


def exports_for(user) -> list[tuple[Candidate, Slate | None]]:
    """The reports this user may download: (candidate, None) for all slates, else a slate."""
    whole = [(t.candidate, None) for t in Treasurer.objects.filter(user=user).select_related(
        "candidate"
    )]  # fmt: skip
    per_slate = [
        (invitation.candidate, invitation.slate)
        for invitation in Invitation.objects.filter(slate__organizers=user)
        .select_related("candidate", "slate")
        .order_by("slate__name", "candidate__full_name")
    ]
    return whole + per_slate
