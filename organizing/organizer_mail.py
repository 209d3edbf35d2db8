"""Emails to organizers and to people invited to organize, through ``slate.mail`` (the one
way Slate sends email). Sent from Celery tasks; each is safe to run twice."""

from django.urls import reverse

from slate import mail
from slate import organizers as slate_organizers
from slate.links import public_url
from slate.models import OrganizerInvitation, SlateTransition
from slate.states import SlateState


def send_organizer_invitation(*, invitation_id: int) -> bool:
    """Email the invitation's link, unless it was accepted or withdrawn meanwhile. Inviting
    the same address again sends the link again (one email per invitation per send)."""
    invitation = (
        OrganizerInvitation.objects.select_related("slate", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    inviter = invitation.invited_by
    token = slate_organizers.organizer_invitation_token(invitation)
    return mail.send(
        mail.Email(
            to=invitation.email,
            subject=f"Organize {invitation.slate.name} on Slate",
            template="organizing/email/organizer_invitation.txt",
            context={
                "invitation": invitation,
                "slate": invitation.slate,
                "inviter": (inviter.get_full_name() or inviter.email)
                if inviter
                else "An organizer",
                "url": public_url(reverse("organize:join", args=[token])),
            },
            slate=invitation.slate,
            reason=f"an organizer of {invitation.slate.name} invited this address",
        )
    )


def tell_organizers_refused(*, transition_id: int) -> int:
    """Tell a refused slate's organizers why staff sent it back (once per refusal each)."""
    transition = (
        SlateTransition.objects.select_related("slate")
        .filter(pk=transition_id, from_state=SlateState.REVIEW, to_state=SlateState.DRAFT)
        .first()
    )
    if transition is None:
        return 0
    slate = transition.slate
    context = {
        "slate": slate,
        "reason": transition.reason,
        "url": public_url(reverse("organize:preview", args=[slate.slug])),
    }
    sent = 0
    for organizer in slate.organizers.exclude(email=""):
        sent += mail.send(
            mail.Email(
                to=organizer.email,
                subject=f"{slate.name}: returned by Slate's staff",
                template="organizing/email/slate_refused.txt",
                context=context,
                slate=slate,
                reason=f"you organize {slate.name}",
            ),
            once=f"slate-refused:{transition.pk}:user:{organizer.pk}",
        )
    return sent
