"""The signers' room: a page only a slate's signers and their campaign staff see, with each
other's contact details as each chose to share them (``candidates.SignerContact``), what the
agreement binds them to with the dates it implies, and the slate's volunteer events across
campaigns.

A signer adds their campaign staff here by email address (the ``CampaignStaff`` rows that also
let staff run the campaign's volunteer events): an address with an account joins at once, any
other is sent an invitation to sign up (``volunteers.staff_invitations``). A staff member sees
the room of every slate their candidate has signed, and nothing more.
"""

from dataclasses import dataclass, field
from datetime import date

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from candidates.models import Candidate, Signature, SignerContact
from candidates.selectors import current_agreement_version, valid_signatures
from slate.email_links import clean_email
from slate.models import Slate
from slate.selectors import PUBLIC_STATES

from . import staff_invitations
from .errors import VolunteerError
from .models import CampaignStaff, Shift, StaffInvitation, VolunteerEvent

# --- Who may enter ----------------------------------------------------------------------------


def room_candidates(user, slate: Slate) -> list[Candidate]:
    """The signers of this slate this user is, or works for (empty: no entry)."""
    if not user.is_authenticated or slate.state not in PUBLIC_STATES:
        return []
    signed = valid_signatures(slate).values_list("candidate_id", flat=True)
    staffed = CampaignStaff.objects.filter(user=user).values_list("candidate_id", flat=True)
    return list(
        Candidate.objects.filter(pk__in=signed)
        .filter(Q(user=user) | Q(pk__in=staffed))
        .order_by("full_name")
    )


def rooms_of(user) -> list[Slate]:
    """Slates whose signers' room this user may enter (their own or their candidate's)."""
    if not user.is_authenticated:
        return []
    mine = set(CampaignStaff.objects.filter(user=user).values_list("candidate_id", flat=True))
    mine |= set(Candidate.objects.filter(user=user).values_list("id", flat=True))
    slates = Slate.objects.filter(
        state__in=PUBLIC_STATES, signatures__candidate_id__in=mine, signatures__withdrawn_at=None
    ).distinct()
    return [slate for slate in slates if room_candidates(user, slate)]


# --- What the room shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    candidate: Candidate
    signature: Signature
    shared: list[tuple[str, str]]  # (label, value): only what the candidate chose to share


def members(slate: Slate) -> list[Member]:
    signatures = (
        valid_signatures(slate)
        .select_related("candidate", "candidate__signer_contact")
        .order_by("signed_at", "id")
    )
    found = []
    for signature in signatures:
        try:
            contact = signature.candidate.signer_contact
        except SignerContact.DoesNotExist:
            contact = None
        found.append(Member(signature.candidate, signature, contact.shared() if contact else []))
    return found


@dataclass(frozen=True)
class Appearance:
    month: date  # the first of the month it falls in
    state: str
    hosts: list[Candidate]  # the signers from that state


@dataclass(frozen=True)
class Obligations:
    planks: list[tuple[int, dict]]  # the planks they vote on as a bloc
    starts: date | None  # the first month of joint appearances (None before the lock)
    appearances: list[Appearance] = field(default_factory=list)


def _month_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def obligations(slate: Slate, signers: list[Member]) -> Obligations:
    """The planks they signed to vote on as a bloc, and one joint appearance a month, in each
    signer's state in turn (in the order they signed), from the month after the lock: one
    round, every state once. Before the lock the dates are not yet set."""
    version = current_agreement_version(slate)
    planks = version.numbered_planks() if version else []
    if slate.locked_at is None:
        return Obligations(planks=planks, starts=None)
    starts = _month_after(timezone.localdate(slate.locked_at), 1)
    states: dict[str, list[Candidate]] = {}
    for member in signers:
        states.setdefault(member.candidate.state, []).append(member.candidate)
    appearances = [
        Appearance(month=_month_after(starts, i), state=state, hosts=hosts)
        for i, (state, hosts) in enumerate(states.items())
    ]
    return Obligations(planks=planks, starts=starts, appearances=appearances)


def events(slate: Slate, now=None) -> list[VolunteerEvent]:
    """The slate's volunteer events across campaigns, each with its upcoming shifts."""
    upcoming = Shift.objects.filter(starts_at__gt=now or timezone.now()).order_by("starts_at")
    return list(
        VolunteerEvent.objects.filter(slate=slate)
        .select_related("candidate", "organization", "slate")
        .prefetch_related(Prefetch("shifts", queryset=upcoming, to_attr="upcoming_shifts"))
        .order_by("created_at", "id")
    )


# --- A signer's campaign staff ----------------------------------------------------------------


def staff_roles(user):
    return CampaignStaff.objects.filter(user=user)


def staff_of(candidate: Candidate):
    return CampaignStaff.objects.filter(candidate=candidate).select_related("user").order_by("id")


def _require_candidate_self(candidate: Candidate, actor) -> None:
    if not actor.is_authenticated or candidate.user_id != actor.pk:
        raise VolunteerError("forbidden", "Only the candidate adds or removes their staff.")


@transaction.atomic
def add_staff(*, candidate: Candidate, actor, email: object) -> CampaignStaff | StaffInvitation:
    """The candidate adds a member of their campaign by email address: the account that has
    verified it joins their staff now; any other address is emailed an invitation (the open
    invitation, if there is one), whose link proves the mailbox. Never the account that merely
    lists the address unverified: anyone can add any address to their own account, and staff
    read the signers' room."""
    _require_candidate_self(candidate, actor)
    email = clean_email(email, error=VolunteerError)
    verified = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    if verified is None:
        return staff_invitations.invite(candidate=candidate, actor=actor, email=email)
    user = verified.user
    if user.pk == actor.pk:
        raise VolunteerError("self", "That is your own account.", field="email")
    try:
        with transaction.atomic():
            staff = CampaignStaff.objects.create(candidate=candidate, user=user)
    except IntegrityError:
        raise VolunteerError(
            "already_staff", "That person is on your staff already.", field="email"
        ) from None
    staff_invitations.close_for_account(candidate=candidate, email=email, user=user)
    return staff


def withdraw_staff_invitation(*, candidate: Candidate, actor, invitation_id: object) -> None:
    _require_candidate_self(candidate, actor)
    staff_invitations.withdraw(candidate=candidate, invitation_id=invitation_id)


@transaction.atomic
def remove_staff(*, candidate: Candidate, actor, staff_id: int) -> None:
    _require_candidate_self(candidate, actor)
    deleted, _ = CampaignStaff.objects.filter(candidate=candidate, pk=staff_id).delete()
    if not deleted:
        raise VolunteerError("not_staff", "That person is not on your staff.")
