"""Emails about candidates' invitations. Sent from Celery tasks, never inside a transaction."""

from django.core.mail import send_mail
from django.template.loader import render_to_string

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
    body = render_to_string(
        "candidates/email/invitation.txt", {"invitation": invitation, "link": link, "f": figures}
    )
    send_mail(f"You are invited to {invitation.slate.name}", body, None, [email])
    return True
