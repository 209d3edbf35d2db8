"""Text that PostgreSQL cannot store (NUL) or that is not text at all is a field error from
the service, never a database error, and writes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates import agreements as candidate_agreements
from candidates import asks
from candidates import services as candidate_services
from candidates import signatures as candidate_signatures
from candidates.selectors import current_agreement_version
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from slate import partners as slate_partners
from slate import services as slate_services
from slate.errors import DomainError
from slate.models import Slate
from tests.factories import UserFactory, make_open_slate, organizer_of, slate_candidates
from volunteers import room

pytestmark = pytest.mark.django_db

NUL = "bad\x00text"


@pytest.fixture
def open_slate():
    return make_open_slate()


def _cases(slate):
    organizer = organizer_of(slate)
    candidate = slate_candidates(slate)[0]
    return {
        "slate name": lambda: slate_services.create_slate(
            name=NUL, mission="m", deadline=timezone.now() + timedelta(days=3),
            threshold_min_signatures=1, created_by=organizer,
        ),
        "plank title": lambda: slate_services.create_slate(
            name="n", mission="m", deadline=timezone.now() + timedelta(days=3),
            threshold_min_signatures=1, created_by=organizer, planks=[(NUL, "")],
        ),
        "candidate name": lambda: candidate_services.create_candidate(
            full_name=NUL, office="house", state="CA", created_by=organizer
        ),
        "candidate state not text": lambda: candidate_services.create_candidate(
            full_name="Ok Name", office="house", state=12, created_by=organizer
        ),
        "agreement text": lambda: candidate_agreements.save_agreement_draft(
            slate=slate, actor=organizer, text=NUL
        ),
        "typed name": lambda: candidate_signatures.sign_agreement(
            candidate=candidate, slate=slate, typed_name=NUL,
            agreement_version_id=current_agreement_version(slate).pk,
            signer=candidate.user,
        ),
        "zip code": lambda: pledge_intake.create_volunteer_pledge(
            supporter=UserFactory(), slate=slate, hours=3, activities=["canvassing"],
            zip_code=NUL,
        ),
        "zip code not text": lambda: pledge_intake.create_volunteer_pledge(
            supporter=UserFactory(), slate=slate, hours=3, activities=["canvassing"],
            zip_code=94110,
        ),
        "availability": lambda: pledge_intake.create_volunteer_pledge(
            supporter=UserFactory(), slate=slate, hours=3, activities=["canvassing"],
            zip_code="94110", availability=NUL,
        ),
        "idempotency key": lambda: pledge_intake.create_money_pledge(attestations=ATTESTED,
            supporter=UserFactory(), slate=slate, amount_cents=500, idempotency_key=NUL
        ),
        "supporter state": lambda: pledge_intake.create_money_pledge(attestations=ATTESTED,
            supporter=UserFactory(), slate=slate, amount_cents=500, supporter_state=NUL
        ),
        "endorsement statement": lambda: slate_partners.endorse_slate(
            organization=slate_partners.create_partner_organization(
                name="Org", kind="civic", admin=organizer
            ),
            slate=slate, actor=organizer, statement=NUL,
        ),
        "asker name": lambda: asks.request_ask_by_email(
            slate=slate, candidate=slate_candidates(slate)[1], name=NUL, email="a@example.org"
        ),
        "signer contact note": lambda: candidate_services.set_signer_contact(
            candidate=candidate, actor=candidate.user, note=NUL
        ),
        "staff email not text": lambda: room.add_staff(
            candidate=candidate, actor=candidate.user, email=12
        ),
    }  # fmt: skip


EXPECTED_FIELD = {
    "slate name": "name", "plank title": "planks", "candidate name": "full_name",
    "candidate state not text": "state", "agreement text": "text", "typed name": "typed_name",
    "zip code": "zip_code", "zip code not text": "zip_code", "availability": "availability",
    "idempotency key": "idempotency_key", "supporter state": "supporter_state",
    "endorsement statement": "statement", "asker name": "name", "signer contact note": "note",
    "staff email not text": "email",
}  # fmt: skip
CASE_NAMES = sorted(EXPECTED_FIELD)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_unstorable_text_is_a_field_error(open_slate, case):
    slates, pledges = Slate.objects.count(), Pledge.objects.count()
    with pytest.raises(DomainError) as excinfo:
        _cases(open_slate)[case]()
    assert excinfo.value.field == EXPECTED_FIELD[case]
    assert (Slate.objects.count(), Pledge.objects.count()) == (slates, pledges)


def test_every_case_is_listed(open_slate):
    assert sorted(_cases(open_slate)) == sorted(CASE_NAMES)
