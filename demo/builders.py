"""One way to build slates, candidates and signatures through the real services, shared by the
demo seed (``demo.seed``), the tests (``tests/factories.py``) and the benchmarks
(``bench/_setup.py``): each keeps only what differs (names, people, the clock), not its own
sequence of service calls.
"""

from candidates import agreements as candidate_agreements
from candidates import invitations as candidate_invitations
from candidates import services as candidate_services
from candidates import signatures as candidate_signatures
from candidates.models import Candidate
from candidates.selectors import current_agreement_version
from slate import services as slate_services
from slate.models import Slate

DEFAULT_MISSION = "Coordinate or nothing."
DEFAULT_PLANKS: tuple[tuple[str, str], ...] = (
    ("Universal health care", "Medicare for all"),
    ("Climate", ""),
)
DEFAULT_AGREEMENT = "We share resources, vote as a bloc, campaign together."


def draft_slate(
    *,
    organizer,
    name: str,
    deadline,
    min_signatures: int = 3,
    min_money_cents: int = 0,
    min_volunteer_hours: int = 0,
    mission: str = DEFAULT_MISSION,
    planks=DEFAULT_PLANKS,
    slug: str | None = None,
) -> Slate:
    """A draft slate created by ``organizer``."""
    return slate_services.create_slate(
        name=name,
        slug=slug,
        mission=mission,
        deadline=deadline,
        threshold_min_signatures=min_signatures,
        threshold_min_money_cents=min_money_cents,
        threshold_min_volunteer_hours=min_volunteer_hours,
        planks=list(planks),
        created_by=organizer,
    )


def claimed_candidate(
    *,
    organizer,
    user,
    full_name: str,
    state: str,
    district: str = "",
    office: str = Candidate.Office.HOUSE,
    party: str = "Independent",
    **profile,
) -> Candidate:
    """A candidate profile entered by ``organizer`` and claimed by ``user`` (not verified yet)."""
    candidate = candidate_services.create_candidate(
        full_name=full_name,
        office=office,
        state=state,
        district=district,
        party=party,
        created_by=organizer,
        **profile,
    )
    return candidate_services.claim_candidate(candidate=candidate, user=user)


def invite_and_verify(
    *, slate: Slate, candidate: Candidate, organizer, is_required: bool = False
) -> Candidate:
    """Invite ``candidate`` to ``slate`` and verify their claimed profile."""
    candidate_invitations.invite_candidate(
        slate=slate, candidate=candidate, actor=organizer, is_required=is_required
    )
    return candidate_services.verify_candidate(candidate=candidate, actor=organizer)


def publish_agreement(
    *, slate: Slate, organizer, text: str = DEFAULT_AGREEMENT, title: str = ""
) -> None:
    candidate_agreements.save_agreement_draft(slate=slate, actor=organizer, title=title, text=text)
    candidate_agreements.publish_agreement(slate=slate, actor=organizer)


def sign(
    candidate: Candidate,
    slate: Slate,
    *,
    ip_address: str = "203.0.113.5",
    user_agent: str = "pytest",
    reservations=None,
):
    """``candidate`` signs the slate's current agreement with their full name."""
    version = current_agreement_version(slate)
    return candidate_signatures.sign_agreement(
        candidate=candidate,
        slate=slate,
        agreement_version_id=version.pk,
        typed_name=candidate.full_name,
        signer=candidate.user,
        ip_address=ip_address,
        user_agent=user_agent,
        reservations=reservations,
    )
