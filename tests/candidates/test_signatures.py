"""Candidates: profiles, invitations, the versioned agreement and signatures."""

import pytest
from django.core.exceptions import ValidationError

from candidates import agreements, invitations, selectors, services, signatures
from candidates.models import AgreementVersion, Candidate, Invitation, Signature
from candidates.services import CandidateError
from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_candidate,
    make_draft_slate,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


def test_signing_records_version_ip_and_user_agent():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    signature = sign(candidate, slate)
    version = selectors.current_agreement_version(slate)
    assert signature.agreement_version == version
    assert signature.ip_address == "203.0.113.5"
    assert signature.user_agent == "pytest"
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 1
    assert Invitation.objects.get(slate=slate, candidate=candidate).status == "accepted"


def test_a_candidate_signs_only_for_themself():
    slate = make_open_slate()
    candidate, other = slate_candidates(slate)[:2]
    version = selectors.current_agreement_version(slate)
    with pytest.raises(CandidateError) as excinfo:
        signatures.sign_agreement(
            candidate=candidate, slate=slate, agreement_version_id=version.pk,
            typed_name=candidate.full_name, signer=other.user,
        )  # fmt: skip
    assert excinfo.value.code == "forbidden"
    assert not Signature.objects.exists()


def test_signing_an_old_agreement_version_is_refused():
    slate = make_open_slate()
    organizer = organizer_of(slate)
    old = selectors.current_agreement_version(slate)
    agreements.save_agreement_draft(slate=slate, actor=organizer, text="Version two text.")
    agreements.publish_agreement(slate=slate, actor=organizer)
    candidate = slate_candidates(slate)[0]
    with pytest.raises(CandidateError) as excinfo:
        signatures.sign_agreement(
            candidate=candidate, slate=slate, agreement_version_id=old.pk,
            typed_name=candidate.full_name, signer=candidate.user,
        )  # fmt: skip
    assert excinfo.value.code == "stale_version"
    assert excinfo.value.field == "agreement_version"
    assert not Signature.objects.exists()


def test_a_new_version_makes_old_signatures_stop_counting_until_resigned():
    slate = make_open_slate(min_signatures=3)
    organizer = organizer_of(slate)
    candidate = slate_candidates(slate)[0]
    sign(candidate, slate)
    agreements.save_agreement_draft(slate=slate, actor=organizer, text="Amended: also share lists.")
    agreements.publish_agreement(slate=slate, actor=organizer)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 0
    assert slate.agreement_version_number == 2
    sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 1
    old = Signature.objects.filter(candidate=candidate).order_by("signed_at").first()
    assert old.withdrawal_reason == "superseded by version 2"


def test_signing_twice_is_refused():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    sign(candidate, slate)
    with pytest.raises(CandidateError) as excinfo:
        sign(candidate, slate)
    assert excinfo.value.code == "already_signed"
    assert Signature.objects.count() == 1


def test_typed_name_must_match_the_candidate():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    version = selectors.current_agreement_version(slate)
    with pytest.raises(CandidateError) as excinfo:
        signatures.sign_agreement(
            candidate=candidate, slate=slate, agreement_version_id=version.pk,
            typed_name="Someone Else", signer=candidate.user,
        )  # fmt: skip
    assert excinfo.value.field == "typed_name"
    # Case and spacing do not matter.
    signatures.sign_agreement(
        candidate=candidate, slate=slate, agreement_version_id=version.pk,
        typed_name="  " + candidate.full_name.upper().replace(" ", "   "), signer=candidate.user,
    )  # fmt: skip


def test_uninvited_or_unverified_candidates_cannot_sign():
    slate = make_open_slate()
    outsider = make_candidate(organizer=organizer_of(slate))
    services.verify_candidate(candidate=outsider, actor=UserFactory(is_staff=True))
    with pytest.raises(CandidateError) as excinfo:
        sign(outsider, slate)
    assert excinfo.value.code == "not_invited"
    unverified = make_candidate(organizer=organizer_of(slate))
    invitations.invite_candidate(slate=slate, candidate=unverified, actor=organizer_of(slate))
    with pytest.raises(CandidateError) as excinfo:
        sign(unverified, slate)
    assert excinfo.value.code == "unverified"


def test_signing_a_draft_slate_is_refused():
    slate = make_draft_slate()
    organizer = organizer_of(slate)
    candidate = make_candidate(organizer=organizer)
    invitations.invite_candidate(slate=slate, candidate=candidate, actor=organizer)
    services.verify_candidate(candidate=candidate, actor=organizer)
    agreements.save_agreement_draft(slate=slate, actor=organizer, text="Text")
    agreements.publish_agreement(slate=slate, actor=organizer)
    with pytest.raises(CandidateError) as excinfo:
        sign(candidate, slate)
    assert excinfo.value.code == "slate_closed"


def test_withdraw_while_open_then_sign_again():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    sign(candidate, slate)
    signatures.withdraw_signature(
        candidate=candidate, slate=slate, signer=candidate.user, reason="x"
    )
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 0
    sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 1


def test_withdrawal_after_lock_is_refused(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=3, min_signatures=1)
    candidate = slate_candidates(slate)[0]
    with django_capture_on_commit_callbacks(execute=True):
        sign(candidate, slate)
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER
    with pytest.raises(CandidateError) as excinfo:
        signatures.withdraw_signature(candidate=candidate, slate=slate, signer=candidate.user)
    assert excinfo.value.code == "slate_locked"
    assert Signature.objects.get(candidate=candidate).withdrawn_at is None


def test_withdrawing_someone_elses_signature_is_refused():
    slate = make_open_slate()
    candidate, other = slate_candidates(slate)[:2]
    sign(candidate, slate)
    with pytest.raises(CandidateError) as excinfo:
        signatures.withdraw_signature(candidate=candidate, slate=slate, signer=other.user)
    assert excinfo.value.code == "forbidden"


def test_published_agreement_version_is_immutable():
    slate = make_open_slate()
    version = selectors.current_agreement_version(slate)
    version.text = "Sneaky edit"
    with pytest.raises(ValidationError):
        version.save()
    with pytest.raises(ValidationError):
        version.delete()
    version.refresh_from_db()
    assert "Sneaky" not in version.text
    assert len(version.content_hash) == 64


def test_agreement_is_fixed_after_lock(django_capture_on_commit_callbacks):
    slate = make_open_slate(candidates=2, min_signatures=1)
    with django_capture_on_commit_callbacks(execute=True):
        sign(slate_candidates(slate)[0], slate)
    with pytest.raises(CandidateError):
        agreements.save_agreement_draft(slate=slate, actor=organizer_of(slate), text="New")
    assert AgreementVersion.objects.filter(agreement__slate=slate).count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fec_candidate_id", "X123"),
        ("fec_candidate_id", "H8CA0503"),
        ("fec_committee_id", "C1234567"),
        ("state", "ZZ"),
        ("office", "emperor"),
        ("full_name", ""),
    ],
)
def test_candidate_profile_rejects_bad_input(field, value):
    organizer = make_draft_slate().organizers.first()
    arguments = {
        "full_name": "Ada Example", "office": "house", "state": "CA", "created_by": organizer,
        "fec_candidate_id": "H8CA05035", "fec_committee_id": "C00123456",
    }  # fmt: skip
    arguments[field] = value
    before = Candidate.objects.count()
    with pytest.raises(CandidateError) as excinfo:
        services.create_candidate(**arguments)
    assert excinfo.value.field == field
    assert Candidate.objects.count() == before


def test_valid_fec_ids_are_accepted():
    organizer = make_draft_slate().organizers.first()
    candidate = services.create_candidate(
        full_name="Pat Example", office="senate", state="ny", created_by=organizer,
        fec_candidate_id="s6ny00123", fec_committee_id="C00123456",
    )  # fmt: skip
    assert candidate.fec_candidate_id == "S6NY00123"
    assert candidate.state == "NY"


def test_an_fec_id_belongs_to_one_profile_and_no_id_to_many():
    organizer = make_draft_slate().organizers.first()
    profile = {"office": "house", "state": "CA", "created_by": organizer}
    services.create_candidate(full_name="Pat Example", fec_candidate_id="H8CA05035", **profile)
    with pytest.raises(CandidateError) as excinfo:
        services.create_candidate(full_name="Pat Again", fec_candidate_id="h8ca05035", **profile)
    assert (excinfo.value.code, excinfo.value.field, excinfo.value.message) == (
        "invalid_candidate",
        "fec_candidate_id",
        "Another candidate profile already has this FEC candidate ID.",
    )
    services.create_candidate(full_name="Lee Example", **profile)
    services.create_candidate(full_name="Lee Again", **profile)
    assert list(Candidate.objects.values_list("full_name", flat=True)) == [
        "Lee Again", "Lee Example", "Pat Example",
    ]  # fmt: skip


def test_only_inviting_organizers_verify_candidates():
    slate = make_draft_slate()
    candidate = make_candidate(organizer=organizer_of(slate), verified=False)
    with pytest.raises(CandidateError):
        services.verify_candidate(candidate=candidate, actor=organizer_of(make_draft_slate()))
    invitations.invite_candidate(slate=slate, candidate=candidate, actor=organizer_of(slate))
    services.verify_candidate(candidate=candidate, actor=organizer_of(slate))
    candidate.refresh_from_db()
    assert candidate.verified


def test_a_claimed_profile_cannot_be_claimed_again():
    slate = make_draft_slate()
    candidate = make_candidate(organizer=organizer_of(slate))
    with pytest.raises(CandidateError) as excinfo:
        services.claim_candidate(candidate=candidate, user=UserFactory())
    assert excinfo.value.code == "already_claimed"


def test_declining_and_revoking_change_the_invited_count():
    slate = make_open_slate(candidates=5, min_signatures=3)
    organizer = organizer_of(slate)
    first, second = slate_candidates(slate)[:2]
    invitations.respond_to_invitation(
        invitation=Invitation.objects.get(slate=slate, candidate=first),
        user=first.user,
        accept=False,
    )
    invitations.revoke_invitation(
        invitation=Invitation.objects.get(slate=slate, candidate=second), actor=organizer
    )
    slate.refresh_from_db()
    assert slate.invited_candidate_count == 3
    # A signed candidate cannot be uninvited.
    third = slate_candidates(slate)[2]
    sign(third, slate)
    with pytest.raises(CandidateError):
        invitations.revoke_invitation(
            invitation=Invitation.objects.get(slate=slate, candidate=third), actor=organizer
        )
