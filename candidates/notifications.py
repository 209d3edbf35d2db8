"""Emails about candidates' invitations. Sent from Celery tasks, never inside a transaction."""

from slate import mail
from slate.links import public_url

from . import news
from .claim_links import claim_path
from .models import Invitation


def email_invitation_link(*, invitation_id: int, email: str) -> bool:
    """Send the invitation link, unless the invitation closed or was claimed meanwhile."""
    invitation = (
        Invitation.objects.select_related("slate", "candidate").filter(pk=invitation_id).first()
    )
    if invitation is None or not invitation.counts_toward_slate:
        return False
    if invitation.candidate.user_id is not None:
        return False
    link = public_url(claim_path(invitation))
    figures = news.candidate_figures(invitation.slate, invitation.candidate)
    return mail.send(
        mail.Email(
            to=email,
            subject=f"You are invited to {invitation.slate.name}",
            template="candidates/email/invitation.txt",
            context={"invitation": invitation, "link": link, "f": figures},
            slate=invitation.slate,
            reason=f"an organizer of {invitation.slate.name} invited you to stand on it",
            track_opens=True,
        )
    )
