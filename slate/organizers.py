"""A slate's organizers: adding and removing them, and inviting someone by email (a signed
link that makes its verified owner an organizer)."""

from allauth.account.models import EmailAddress
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .errors import SlateError
from .models import OrganizerInvitation, Slate, SlateOrganizer
from .queue import enqueue_named_on_commit
from .services import lock_slate, require_organizer

ORGANIZER_INVITATION_SALT = "slate.organizer-invitation"
ORGANIZER_INVITATION_MAX_AGE = 14 * 24 * 3600  # seconds


@transaction.atomic
def add_organizer(*, slate: Slate, user, actor) -> SlateOrganizer:
    require_organizer(actor, slate)
    organizer, _ = SlateOrganizer.objects.get_or_create(slate=slate, user=user)
    return organizer


def _clean_email(email: object) -> str:
    if not isinstance(email, str):
        email = ""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SlateError("invalid_email", "Enter a valid email address.", field="email") from None
    return email


@transaction.atomic
def invite_organizer(*, slate: Slate, email: object, actor) -> OrganizerInvitation:
    """Email ``email`` a link to organize ``slate`` too. Inviting the same address again
    re-sends the open invitation; someone who organizes it already is refused."""
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
    email = _clean_email(email)
    if slate.organizers.filter(email__iexact=email).exists():
        raise SlateError(
            "already_organizer", "That person organizes this slate already.", field="email"
        )
    invitation, _ = OrganizerInvitation.objects.get_or_create(
        slate=slate, email=email, accepted_at=None, defaults={"invited_by": actor}
    )
    enqueue_named_on_commit("organizing.tasks.send_organizer_invitation", invitation.pk)
    return invitation


@transaction.atomic
def cancel_organizer_invitation(*, invitation: OrganizerInvitation, actor) -> None:
    require_organizer(actor, invitation.slate)
    OrganizerInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()


def organizer_invitation_token(invitation: OrganizerInvitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=ORGANIZER_INVITATION_SALT)


def organizer_invitation_for_token(token: str) -> OrganizerInvitation:
    """The open invitation a link names, or a SlateError saying why the link is no good."""
    try:
        data = signing.loads(
            token, salt=ORGANIZER_INVITATION_SALT, max_age=ORGANIZER_INVITATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise SlateError(
            "link_expired", "This invitation has expired; ask the organizers for a new one."
        ) from None
    except signing.BadSignature:
        raise SlateError("bad_link", "This link is not an invitation we sent.") from None
    invitation = (
        OrganizerInvitation.objects.select_related("slate")
        .filter(pk=data.get("invitation") if isinstance(data, dict) else None)
        .first()
    )
    if invitation is None:
        raise SlateError(
            "bad_link", "This invitation was withdrawn; ask the organizers for a new one."
        )
    return invitation


@transaction.atomic
def accept_organizer_invitation(*, token: str, user) -> SlateOrganizer:
    """Follow the link: the logged-in person becomes an organizer, if the invitation was sent
    to an address of theirs that they have verified."""
    invitation = organizer_invitation_for_token(token)
    slate = lock_slate(invitation.slate_id)
    invitation = OrganizerInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise SlateError(
            "wrong_account",
            f"This invitation was sent to {invitation.email}. Log in with that address "
            "(verified) to accept it.",
        )
    organizer, _ = SlateOrganizer.objects.get_or_create(slate=slate, user=user)
    if invitation.accepted_at is None:
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return organizer


@transaction.atomic
def remove_organizer(*, slate: Slate, user, actor) -> None:
    """An organizer removes a co-organizer (or leaves); a slate keeps at least one."""
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
    organizers = SlateOrganizer.objects.select_for_update().filter(slate=slate)
    if not organizers.filter(user=user).exists():
        raise SlateError("not_organizer", "That person does not organize this slate.")
    if organizers.count() <= 1:
        raise SlateError(
            "last_organizer",
            "A slate needs at least one organizer: invite someone else before you leave.",
        )
    organizers.filter(user=user).delete()
