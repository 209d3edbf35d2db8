"""Inviting campaign staff who have no account yet: a signer adds an address in the signers'
room (``volunteers.room.add_staff``); when no account uses it, the address gets a signed link
that works for ``LINK_MAX_AGE`` (the emailed-link helpers of ``slate.email_links``). Following
it, the person signs up with that address (the link proves it is theirs, so the new account's
address is verified at once) or logs in with it, and accepts: they join the candidate's staff.

Only an open invitation works: one withdrawn by the candidate, one used already, an expired
or a forged link each say so and change nothing. Staff need two-factor authentication
(``accounts.mfa``), asked for by the pages they then open, not by accepting.
"""

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate
from slate import email_links, mail
from slate.links import public_url

from .errors import VolunteerError
from .models import CampaignStaff, StaffInvitation

SALT = "volunteers.staff-invitation"
LINK_MAX_AGE = email_links.LINK_MAX_AGE
SEND_TASK = "volunteers.tasks.send_staff_invitation"
LINK_MESSAGES = email_links.LinkMessages(
    expired="This invitation link has expired. Ask the candidate to add your address again.",
    bad="This link is not an invitation we sent.",
)


def _open(queryset):
    return queryset.filter(accepted_at__isnull=True, withdrawn_at__isnull=True)


def invite(*, candidate: Candidate, actor, email: str) -> StaffInvitation:
    """Email ``email`` (clean, with no account) a link to join ``candidate``'s staff. Adding
    the same address again sends the open invitation's link again, at most once per
    ``email_links.RESEND_AFTER``. The caller (``room.add_staff``) checked who asks."""
    with transaction.atomic():
        invitation = (
            _open(StaffInvitation.objects.select_for_update())
            .filter(candidate=candidate, email=email)
            .first()
        )
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = StaffInvitation.objects.create(
                        candidate=candidate, email=email, invited_by=actor
                    )
            except IntegrityError:  # a simultaneous add made it: send that one
                invitation = (
                    _open(StaffInvitation.objects.select_for_update())
                    .filter(candidate=candidate, email=email)
                    .first()
                )
                if invitation is None:  # and it was withdrawn or accepted at once
                    raise VolunteerError(
                        "busy", "That invitation changed just now; try again.", field="email"
                    ) from None
        email_links.queue_link_if_due(SEND_TASK, invitation)
        invitation.save(update_fields=["link_sent_at"])
    return invitation


def close_for_account(*, candidate: Candidate, email: str, user) -> None:
    """Someone invited by address was added directly (they made an account meanwhile): their
    open invitation counts as accepted, so it leaves the pending list and its link says so."""
    _open(StaffInvitation.objects.filter(candidate=candidate, email=email)).update(
        accepted_at=timezone.now(), accepted_by=user
    )


@transaction.atomic
def withdraw(*, candidate: Candidate, invitation_id: object) -> StaffInvitation:
    """The candidate takes an open invitation back; its link stops working. The caller
    (``room.withdraw_staff_invitation``) checked who asks."""
    invitation = (
        StaffInvitation.objects.select_for_update()
        .filter(candidate=candidate, pk=_as_id(invitation_id))
        .first()
    )
    if invitation is None or not invitation.is_open:
        raise VolunteerError("not_open", "That invitation was used or withdrawn already.")
    invitation.withdrawn_at = timezone.now()
    invitation.save(update_fields=["withdrawn_at"])
    return invitation


def _as_id(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Pending:
    invitation: StaffInvitation
    link_expires_at: datetime | None  # when the last link sent stops working
    expired: bool


def pending(candidate: Candidate, now: datetime | None = None) -> list[Pending]:
    """The candidate's open invitations, oldest first, each with when its last link expires
    (every new link works for ``LINK_MAX_AGE`` from when it is sent)."""
    now = now or timezone.now()
    found = []
    for invitation in _open(StaffInvitation.objects.filter(candidate=candidate)):
        sent = invitation.link_sent_at
        expires_at = sent + LINK_MAX_AGE if sent else None
        found.append(Pending(invitation, expires_at, expires_at is not None and expires_at <= now))
    return found


# --- The link ---------------------------------------------------------------------------------


def token_for(invitation: StaffInvitation) -> str:
    return email_links.make_token(salt=SALT, pk=invitation.pk, email=invitation.email)


def invitation_for_token(token: str) -> StaffInvitation:
    """The open invitation a link names, or a VolunteerError saying why the link is no
    good."""
    invitation = email_links.request_for_token(
        token,
        queryset=StaffInvitation.objects.select_related("candidate", "invited_by"),
        salt=SALT,
        max_age=LINK_MAX_AGE,
        error=VolunteerError,
        messages=LINK_MESSAGES,
    )
    _refuse_unless_open(invitation)
    return invitation


def _refuse_unless_open(invitation: StaffInvitation) -> None:
    if invitation.withdrawn_at is not None:
        raise VolunteerError(
            "withdrawn", "This invitation was withdrawn. Ask the candidate for a new one."
        )
    if invitation.accepted_at is not None:
        raise VolunteerError(
            "used",
            "This invitation was used already. Log in with the account that accepted it to "
            "reach the signers' rooms.",
        )


def is_addressed_to(invitation: StaffInvitation, user) -> bool:
    """Whether the invitation's address is one of ``user``'s (only then may they accept)."""
    return EmailAddress.objects.filter(user=user, email__iexact=invitation.email).exists()


@transaction.atomic
def accept(*, token: str, user) -> CampaignStaff:
    """Follow the link, logged in: ``user`` joins the candidate's staff, if the invitation is
    still open and was sent to an address of theirs. That address counts as verified from
    now: the link was sent to it, as allauth's own confirmation link would be."""
    invitation = invitation_for_token(token)
    # A second use at the same moment waits here, then finds the invitation used.
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    _refuse_unless_open(invitation)
    if not is_addressed_to(invitation, user):
        raise VolunteerError(
            "wrong_account",
            f"This invitation was sent to {invitation.email}. Log in with that address (or "
            "sign up with it from this link) to accept it.",
        )
    if invitation.candidate.user_id == user.pk:
        raise VolunteerError("self", "This is your own campaign.")
    EmailAddress.objects.filter(user=user, email__iexact=invitation.email).update(verified=True)
    staff, _ = CampaignStaff.objects.get_or_create(candidate=invitation.candidate, user=user)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return staff


def send(*, invitation_id: int) -> bool:
    """Email the invitation's link (the task's body), unless it was used or withdrawn
    meanwhile. A mail error propagates so the task retries."""
    invitation = (
        _open(StaffInvitation.objects.select_related("candidate", "invited_by"))
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        return False
    candidate = invitation.candidate
    return mail.send(
        mail.Email(
            to=invitation.email,
            subject=f"Join {candidate.full_name}'s campaign staff on Slate",
            template="volunteers/email/staff_invitation.txt",
            context={
                "invitation": invitation,
                "candidate": candidate,
                "url": public_url(reverse("volunteers:staff-join", args=[token_for(invitation)])),
                "days": LINK_MAX_AGE.days,
            },
            reason=f"{candidate.full_name} invited this address to their campaign staff",
        ),
        # One email per queued send, however often the task runs; adding the address again
        # later queues a new send.
        once=f"staff-invitation:{invitation.pk}:{invitation.link_sent_at.isoformat()}",
    )
