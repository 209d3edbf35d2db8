"""The pledge flow's compliance: attestations, disclosed conditions, donor details asked
exactly when the itemization threshold is passed, and limits explained before pledging."""

import pytest
from django.core.exceptions import ValidationError

from compliance.models import Donor, PledgeDeclaration
from pledges import intake
from pledges.declarations import (
    ATTESTATION_NAMES,
    ATTESTED,
    conditions_digest,
    slate_conditions_text,
)
from pledges.models import Pledge
from pledges.services import PledgeError
from slate import selectors as slate_selectors
from tests.compliance.helpers import record_capture, slates_sharing_candidates
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db

DETAILS = {
    "first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Way",
    "city": "Portland", "state": "OR", "zip_code": "97201", "employer": "Self-employed",
    "occupation": "Mathematician",
}  # fmt: skip


def pledge(slate, supporter=None, amount=5_000, **kwargs):
    kwargs.setdefault("attestations", ATTESTED)
    return intake.create_money_pledge(
        supporter=supporter or UserFactory(), slate=slate, amount_cents=amount, **kwargs
    )


@pytest.mark.parametrize("missing", ATTESTATION_NAMES)
def test_a_pledge_without_every_attestation_is_refused_and_nothing_is_stored(missing):
    slate = make_open_slate()
    before = slate_selectors.slate_counts(slate.pk)
    supporter = UserFactory()
    with pytest.raises(PledgeError) as refused:
        pledge(slate, supporter, attestations=ATTESTED | {missing: False})
    assert refused.value.code == "attestation_required"
    assert refused.value.field == missing
    assert "you must confirm" in refused.value.message
    assert not Pledge.objects.exists()
    assert not Donor.objects.exists() and not PledgeDeclaration.objects.exists()
    assert slate_selectors.slate_counts(slate.pk) == before


def test_no_attestations_at_all_is_refused():
    with pytest.raises(PledgeError, match=r"U\.S\. citizen"):
        intake.create_money_pledge(
            supporter=UserFactory(), slate=make_open_slate(), amount_cents=5_000
        )
    assert not Pledge.objects.exists()


def test_the_declaration_is_stored_with_the_exact_conditions_and_cannot_change():
    slate = make_open_slate(min_signatures=3)
    shown = slate_conditions_text(slate)
    made = pledge(
        slate, condition_min_signatures=4, allow_reallocation=True,
        conditions_digest=conditions_digest(shown),
    )  # fmt: skip
    declaration = made.declaration
    assert all(getattr(declaration, name) for name in ATTESTATION_NAMES)
    assert "U.S. citizen" in declaration.attestation_text
    assert declaration.disclosed_conditions.startswith(shown)
    assert "at least 3 of the invited candidates" in declaration.disclosed_conditions
    assert "nothing is charged" in declaration.disclosed_conditions
    assert "Your condition: at least 4 candidates sign." in declaration.disclosed_conditions
    assert "the excess goes to the other signed candidates" in declaration.disclosed_conditions
    assert declaration.allow_reallocation
    declaration.disclosed_conditions = "Something else"
    with pytest.raises(ValidationError):
        declaration.save()
    with pytest.raises(ValidationError):
        declaration.delete()
    assert PledgeDeclaration.objects.get(pk=declaration.pk).disclosed_conditions.startswith(shown)


def test_a_pledge_on_conditions_that_changed_since_the_page_was_shown_is_refused():
    slate = make_open_slate(min_signatures=3)
    digest = conditions_digest(slate_conditions_text(slate))
    slate.threshold_min_signatures = 4
    slate.save(update_fields=["threshold_min_signatures"])
    with pytest.raises(PledgeError) as refused:
        pledge(slate, conditions_digest=digest)
    assert refused.value.code == "conditions_changed"
    assert not Pledge.objects.exists()


def test_donor_details_are_asked_only_once_the_threshold_is_passed():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    supporter = UserFactory()
    record_capture(pledge(first, supporter, 15_000, allocation={a.pk: 10_000}), {a.pk: 15_000})
    # $150 + $50 = $200: not above the threshold, nothing asked.
    pledge(second, supporter, 5_000, allocation={a.pk: 10_000})
    # $150 + $60 = $210: above it. Name, address, employer and occupation are needed.
    with pytest.raises(PledgeError) as refused:
        pledge(second, supporter, 6_000, allocation={a.pk: 10_000})
    assert refused.value.code == "donor_details_required"
    assert "employer" in refused.value.message and "occupation" in refused.value.message
    assert Pledge.objects.filter(supporter=supporter).count() == 2
    made = pledge(second, supporter, 6_000, allocation={a.pk: 10_000}, donor_details=DETAILS)
    donor = Donor.objects.get(user=supporter)
    assert (donor.first_name, donor.employer, donor.zip_code) == ("Ada", "Self-employed", "97201")
    assert made.declaration.donor == donor
    # Known now: not asked again.
    pledge(second, supporter, 9_000, allocation={a.pk: 10_000})


def test_a_large_first_pledge_split_among_candidates_asks_when_one_share_passes_200():
    slate = make_open_slate(candidates=5)
    pledge(slate, amount=100_000)  # $200 each: not above
    with pytest.raises(PledgeError, match="more than \\$200"):
        pledge(slate, amount=100_005)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("zip_code", "9720", "invalid_zip"), ("state", "XX", "invalid_state"),
     ("employer", "x" * 201, "too_long"), ("city", "Port\x00land", "invalid_text")],
)  # fmt: skip
def test_bad_donor_details_are_refused_naming_the_field(field, value, code):
    slate = make_open_slate()
    with pytest.raises(PledgeError) as refused:
        pledge(slate, amount=200_000, donor_details=DETAILS | {field: value})
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Pledge.objects.exists() and not Donor.objects.exists()


def test_the_part_over_a_limit_is_explained_and_needs_the_donors_confirmation():
    (first, second), (a, _, _) = slates_sharing_candidates(slates=2)
    supporter = UserFactory()
    prior = pledge(first, supporter, 345_000, allocation={a.pk: 10_000}, donor_details=DETAILS)
    record_capture(prior, {a.pk: 345_000})
    with pytest.raises(PledgeError) as notice:
        pledge(second, supporter, 10_000, allocation={a.pk: 10_000})
    assert notice.value.code == "limit_cap_notice"
    assert "$50.00 of your $100.00 share is over the limit" in notice.value.message
    assert "will not be charged" in notice.value.message
    made = pledge(second, supporter, 10_000, allocation={a.pk: 10_000}, accept_limit_cap=True)
    assert made.pk
    # Consent to reallocation changes what the notice says.
    with pytest.raises(PledgeError, match="would go to the other signed candidates"):
        pledge(second, supporter, 10_000, allocation={a.pk: 10_000}, allow_reallocation=True)


def test_a_pledge_nobody_on_the_slate_can_receive_is_refused():
    (first, second), people = slates_sharing_candidates(slates=2, candidates=2)
    supporter = UserFactory()
    prior = pledge(first, supporter, 700_000, donor_details=DETAILS)
    record_capture(prior, {p.pk: 350_000 for p in people})
    with pytest.raises(PledgeError) as refused:
        pledge(second, supporter, 1_000, accept_limit_cap=True)
    assert refused.value.code == "limit_reached"
    assert Pledge.objects.filter(slate=second).count() == 0


# --- The page -------------------------------------------------------------------------------


def form_data(slate, **extra):
    return {
        "amount": "50", "supporter_state": "CA", "idempotency_key": "k-1",
        "conditions_digest": conditions_digest(slate_conditions_text(slate)),
        **dict.fromkeys(ATTESTATION_NAMES, "on"), **extra,
    }  # fmt: skip


def test_the_page_shows_the_conditions_and_the_five_statements(client):
    slate = make_open_slate()
    client.force_login(UserFactory())
    page = client.get(f"/slates/{slate.slug}/pledge/").content.decode()
    assert "nothing is charged: any authorization" in page
    assert "lawful permanent resident" in page and "not a federal government contractor" in page
    assert 'name="first_name"' not in page  # not asked until needed


def test_posting_without_an_attestation_is_a_400_beside_the_box(client):
    slate = make_open_slate()
    client.force_login(UserFactory())
    data = form_data(slate)
    del data["personal_card"]
    response = client.post(f"/slates/{slate.slug}/pledge/", data)
    assert response.status_code == 400
    assert b"Confirm this to pledge" in response.content
    assert not Pledge.objects.exists()


def test_the_page_asks_for_details_when_needed_and_then_pledges(client):
    slate = make_open_slate(candidates=1, min_signatures=1)
    supporter = UserFactory()
    client.force_login(supporter)
    response = client.post(f"/slates/{slate.slug}/pledge/", form_data(slate, amount="250"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="first_name"' in page and 'name="occupation"' in page
    assert "more than $200" in page
    assert 'value="250"' in page  # what was typed is kept
    assert not Pledge.objects.exists()
    details = {k: v for k, v in DETAILS.items() if k != "state"} | {"donor_state": "OR"}
    response = client.post(
        f"/slates/{slate.slug}/pledge/", form_data(slate, amount="250", ask_details="1", **details)
    )
    assert response.status_code == 302
    made = Pledge.objects.get(supporter=supporter)
    assert made.declaration.donor.occupation == "Mathematician"


# --- The API ----------------------------------------------------------------------------------


def test_the_api_refuses_a_money_pledge_without_the_attestations_and_stores_nothing():
    from rest_framework.test import APIClient

    slate = make_open_slate()
    client = APIClient()
    client.force_login(UserFactory())
    body = {"slate": slate.slug, "kind": "money", "amount_cents": 5_000}
    response = client.post("/api/v1/pledges", body, format="json")
    assert response.status_code == 400
    assert "citizen_or_permanent_resident" in response.json()["fields"]
    assert not Pledge.objects.exists() and not Donor.objects.exists()
    attested = {**body, "attestations": dict.fromkeys(ATTESTATION_NAMES, True)}
    over = client.post("/api/v1/pledges", {**attested, "amount_cents": 200_000}, format="json")
    assert over.status_code == 400 and "first_name" in over.json()["fields"]
    made = client.post(
        "/api/v1/pledges",
        {**attested, "amount_cents": 200_000, "donor_details": DETAILS, "allow_reallocation": True},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert Pledge.objects.get(pk=made.json()["id"]).declaration.allow_reallocation
