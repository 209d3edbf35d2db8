"""The candidate facts the slate row keeps for its threshold rule (signed, invited, required
but unsigned, agreement version) equal a recount from the rows, whatever the invitations and
signatures, and cost a fixed number of queries however many candidates a slate has."""

from datetime import timedelta
from itertools import product

import pytest
from django.utils import timezone

from candidates import agreements, selectors
from candidates.models import AgreementVersion, Candidate, Invitation, Signature
from candidates.selectors import CandidateFacts
from demo import builders
from tests.factories import make_draft_slate, organizer_of

pytestmark = pytest.mark.django_db

ACTIVE = (Invitation.Status.PENDING, Invitation.Status.ACCEPTED)

# What a candidate has signed: on this slate's current version or an older one, active or
# withdrawn, or only on another slate's current version.
SIGNATURES = {
    "none": [],
    "current": [("current", True)],
    "older": [("older", True)],
    "withdrawn": [("current", False)],
    "withdrawn, older active": [("current", False), ("older", True)],
    "older withdrawn, current": [("older", False), ("current", True)],
    "another slate": [("elsewhere", True)],
}
COMBINATIONS = list(product(Invitation.Status, (False, True), SIGNATURES))


def recount(slate) -> CandidateFacts:
    """The facts counted row by row, apart from ``candidate_facts``: a candidate counts as
    signed when they are still invited (pending or accepted) and hold an active signature on
    the slate's latest published version; a required candidate is unsigned when still
    invited and not signed, or when they declined."""
    published = AgreementVersion.objects.filter(agreement__slate=slate, published_at__isnull=False)
    current = max(published, key=lambda version: version.number, default=None)
    invitations = list(Invitation.objects.filter(slate=slate))
    invited = {i.candidate_id for i in invitations if i.status in ACTIVE}
    signed = {
        s.candidate_id
        for s in Signature.objects.filter(slate=slate)
        if current is not None
        and s.agreement_version_id == current.pk
        and s.withdrawn_at is None
        and s.candidate_id in invited
    }
    required_unsigned = [
        i
        for i in invitations
        if i.is_required
        and (
            i.status == Invitation.Status.DECLINED
            or (i.status in ACTIVE and i.candidate_id not in signed)
        )
    ]
    return CandidateFacts(
        signed_candidate_count=len(signed),
        invited_candidate_count=len(invited),
        required_unsigned_count=len(required_unsigned),
        agreement_version_number=current.number if current else None,
    )


def publish(slate, text: str) -> AgreementVersion:
    builders.publish_agreement(slate=slate, organizer=organizer_of(slate), text=text)
    return selectors.current_agreement_version(slate)


def add(slate, versions, status, required, signatures, other_slate) -> Candidate:
    """A candidate with an invitation in ``status`` and the signatures named, written as
    rows (some of these states no service reaches; the count must not care)."""
    candidate = Candidate.objects.create(full_name="Row Candidate", office="house", state="CA")
    Invitation.objects.create(slate=slate, candidate=candidate, status=status, is_required=required)
    Invitation.objects.create(slate=other_slate, candidate=candidate)
    for which, active in signatures:
        Signature.objects.create(
            candidate=candidate,
            slate=other_slate if which == "elsewhere" else slate,
            agreement_version=versions[which],
            typed_name=candidate.full_name,
            withdrawn_at=None if active else timezone.now() - timedelta(minutes=1),
        )
    return candidate


def clear(slate, other_slate) -> None:
    Signature.objects.filter(slate__in=[slate, other_slate]).delete()
    Invitation.objects.filter(slate__in=[slate, other_slate]).delete()


def test_the_facts_equal_a_recount_for_every_invitation_and_signature():
    slate, other_slate = make_draft_slate(), make_draft_slate()
    versions = {
        "older": publish(slate, "The first text."),
        "current": publish(slate, "The second text."),
        "elsewhere": publish(other_slate, "Another slate's text."),
    }
    # Each kind of candidate alone, so no miscount can hide behind another.
    for status, required, signatures in COMBINATIONS:
        add(slate, versions, status, required, SIGNATURES[signatures], other_slate)
        assert selectors.candidate_facts(slate) == recount(slate), (status, required, signatures)
        clear(slate, other_slate)
    # And all of them at once.
    for status, required, signatures in COMBINATIONS:
        add(slate, versions, status, required, SIGNATURES[signatures], other_slate)
    facts = selectors.candidate_facts(slate)
    assert (
        facts
        == recount(slate)
        == CandidateFacts(
            signed_candidate_count=8,  # pending or accepted, either required or not, 2 kinds
            invited_candidate_count=28,
            required_unsigned_count=10 + 7,  # still invited, 5 kinds unsigned; declined, 7 kinds
            agreement_version_number=2,
        )
    )


def test_before_an_agreement_is_published_no_signature_counts():
    slate, other_slate = make_draft_slate(), make_draft_slate()
    draft = agreements.save_agreement_draft(
        slate=slate, actor=organizer_of(slate), text="Unpublished."
    )
    versions = {"current": draft, "older": draft, "elsewhere": publish(other_slate, "Text.")}
    for status, required in product(Invitation.Status, (False, True)):
        add(slate, versions, status, required, SIGNATURES["current"], other_slate)
    assert (
        selectors.candidate_facts(slate)
        == recount(slate)
        == CandidateFacts(
            signed_candidate_count=0,
            invited_candidate_count=4,
            required_unsigned_count=3,  # pending, accepted and declined
            agreement_version_number=None,
        )
    )


@pytest.mark.parametrize("candidates", [1, 12])
def test_the_facts_cost_two_queries_however_many_candidates(candidates, django_assert_num_queries):
    slate, other_slate = make_draft_slate(), make_draft_slate()
    versions = {
        "older": publish(slate, "The first text."),
        "current": publish(slate, "The second text."),
        "elsewhere": publish(other_slate, "Another slate's text."),
    }
    for index in range(candidates):
        status, required, signatures = COMBINATIONS[index * 5 % len(COMBINATIONS)]
        add(slate, versions, status, required, SIGNATURES[signatures], other_slate)
    with django_assert_num_queries(2):  # the current version; the invitations
        selectors.candidate_facts(slate)
