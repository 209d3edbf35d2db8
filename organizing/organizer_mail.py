"""Emails to organizers and to people invited to organize. Sent from Celery tasks; each is
safe to send twice (a re-sent invitation is the same link)."""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from slate import services as slate_services
from slate.links import public_url
from slate.models import OrganizerInvitation, SlateTransition
from slate.states import SlateState


def send_organizer_invitation(*, invitation_id: int) -> bool:
    """Email the invitation's link, unless it was accepted or withdrawn meanwhile."""
    invitation = (
        OrganizerInvitation.objects.select_related("slate", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    token = slate_services.organizer_invitation_token(invitation)
    context = {
        "invitation": invitation,
        "slate": invitation.slate,
        "inviter": invitation.invited_by.get_full_name() or invitation.invited_by.email
        if invitation.invited_by
        else "An organizer",
        "url": public_url(reverse("organize:join", args=[token])),
    }
    send_mail(
        f"Organize {invitation.slate.name} on Slate",
        render_to_string("organizing/email/organizer_invitation.txt", context),
        None,
        [invitation.email],
    )
    return True


def tell_organizers_refused(*, transition_id: int) -> int:
    """Tell a refused slate's organizers why staff sent it back."""
    transition = (
        SlateTransition.objects.select_related("slate")
        .filter(pk=transition_id, from_state=SlateState.REVIEW, to_state=SlateState.DRAFT)
        .first()
    )
    if transition is None:
        return 0
    slate = transition.slate
    emails = [user.email for user in slate.organizers.all() if user.email]
    if not emails:
        return 0
    context = {
        "slate": slate,
        "reason": transition.reason,
        "url": public_url(reverse("organize:preview", args=[slate.slug])),
    }
    send_mail(
        f"{slate.name}: returned by Slate's staff",
        render_to_string("organizing/email/slate_refused.txt", context),
        None,
        emails,
    )
    return len(emails)
