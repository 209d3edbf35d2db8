"""The money pledge page's split, "More options" disclosure and memory: a split reaches the
pledge as basis points; bad input is explained beside the split and writes nothing; what was
typed and chosen comes back with an error."""

import re

import pytest

from candidates.models import Invitation
from pledges.declarations import ATTESTATION_NAMES, conditions_digest, slate_conditions_text
from pledges.models import Pledge, PledgeAllocation
from tests.factories import UserFactory, make_open_slate, slate_candidates

pytestmark = pytest.mark.django_db


def form_data(slate, **extra):
    return {
        "amount": "50", "supporter_state": "CA", "idempotency_key": "k-1",
        "conditions_digest": conditions_digest(slate_conditions_text(slate)),
        **dict.fromkeys(ATTESTATION_NAMES, "on"), **extra,
    }  # fmt: skip


def post(client, slate, **extra):
    return client.post(f"/slates/{slate.slug}/pledge/", form_data(slate, **extra))


def details_tag(page: str) -> str:
    return re.search(r"<details class=\"more-options\"[^>]*>", page).group(0)


@pytest.fixture
def slate_and_supporter(client):
    slate = make_open_slate(candidates=3, min_signatures=2)
    supporter = UserFactory()
    client.force_login(supporter)
    return slate, supporter


def test_a_70_30_split_reaches_the_pledge_as_basis_points(client, slate_and_supporter):
    slate, supporter = slate_and_supporter
    a, b, _c = slate_candidates(slate)
    response = post(client, slate, **{f"share_{a.pk}": "70", f"share_{b.pk}": "30"})
    assert response.status_code == 302, response.content.decode()[:2000]
    pledge = Pledge.objects.get(supporter=supporter)
    allocations = PledgeAllocation.objects.filter(pledge=pledge)
    assert {x.candidate_id: x.weight_bps for x in allocations} == {a.pk: 7_000, b.pk: 3_000}


def test_fractional_percentages_and_a_zero_share(client, slate_and_supporter):
    slate, supporter = slate_and_supporter
    a, b, c = slate_candidates(slate)
    shares = {f"share_{a.pk}": "33.34", f"share_{b.pk}": "66.66", f"share_{c.pk}": "0"}
    assert post(client, slate, **shares).status_code == 302
    pledge = Pledge.objects.get(supporter=supporter)
    assert {x.candidate_id: x.weight_bps for x in pledge.allocations.all()} == {
        a.pk: 3_334,
        b.pk: 6_666,
    }


def test_blank_shares_split_equally(client, slate_and_supporter):
    slate, supporter = slate_and_supporter
    a, b, c = slate_candidates(slate)
    blanks = {f"share_{x.pk}": "" for x in (a, b, c)}
    assert post(client, slate, **blanks).status_code == 302
    assert not Pledge.objects.get(supporter=supporter).allocations.exists()


@pytest.mark.parametrize(
    ("shares", "error_at", "message"),
    [
        ({"a": "70", "b": "20"}, "allocation", "add up to 90%; they must add up to 100%"),
        ({"a": "70", "b": "40"}, "allocation", "add up to 110%"),
        ({"a": "0", "b": "0"}, "allocation", "add up to 0%"),
        ({"a": "130", "b": "-30"}, "b", "cannot be negative"),
        ({"a": "seventy", "b": "30"}, "a", "Enter a percentage"),
        ({"a": "70.005", "b": "29.995"}, "a", "two decimal places"),
        ({"a": "70", "stranger": "30"}, "allocation", "not on this slate"),
    ],
)
def test_a_bad_split_is_explained_beside_it_and_writes_nothing(
    client, slate_and_supporter, shares, error_at, message
):
    slate, _ = slate_and_supporter
    a, b, _c = slate_candidates(slate)
    stranger = slate_candidates(make_open_slate(candidates=1, min_signatures=1))[0]
    ids = {"a": a.pk, "b": b.pk, "stranger": stranger.pk}
    response = post(client, slate, **{f"share_{ids[k]}": v for k, v in shares.items()})
    assert response.status_code == 400
    page = response.content.decode()
    field = "allocation" if error_at == "allocation" else f"share_{ids[error_at]}"
    error_id = f"id_{field}-error"
    error = re.search(rf'<p class="error" id="{error_id}"[^>]*>([^<]*)</p>', page)
    assert error is not None, f"no error beside {error_id}"
    assert message in error.group(1).replace("&#x27;", "'")
    assert " open" in details_tag(page)  # the disclosure opens on its own error
    assert not Pledge.objects.exists() and not PledgeAllocation.objects.exists()


def test_a_candidate_whose_invitation_ended_cannot_be_given_a_share(client, slate_and_supporter):
    slate, _ = slate_and_supporter
    a, b, _c = slate_candidates(slate)
    data = form_data(slate, **{f"share_{a.pk}": "70", f"share_{b.pk}": "30"})
    # The page was shown with b invited; b declines before the supporter submits.
    Invitation.objects.filter(slate=slate, candidate=b).update(status=Invitation.Status.DECLINED)
    response = client.post(f"/slates/{slate.slug}/pledge/", data)
    assert response.status_code == 400
    assert "not on this slate" in response.content.decode()
    assert not Pledge.objects.exists()


def test_amounts_and_every_choice_come_back_with_an_error(client, slate_and_supporter):
    slate, _ = slate_and_supporter
    a, b, c = slate_candidates(slate)
    response = post(
        client, slate, amount="75", supporter_state="NY", condition_min_signatures="2",
        condition_candidates=[str(a.pk), str(c.pk)], allow_reallocation="on",
        **{f"share_{a.pk}": "70", f"share_{b.pk}": "20"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="amount" value="75"' in page
    assert re.search(r'<option value="NY" selected>', page)
    assert 'name="condition_min_signatures" value="2"' in page
    for candidate, checked in ((a, True), (b, False), (c, True)):
        pattern = rf'<input [^>]*name="condition_candidates" value="{candidate.pk}"[^>]*>'
        box = re.search(pattern, page)
        assert ("checked" in box.group(0)) is checked
    assert f'name="share_{a.pk}" value="70"' in page
    assert f'name="share_{b.pk}" value="20"' in page
    assert re.search(r'<input type="checkbox" name="allow_reallocation"[^>]*checked', page)
    for name in ATTESTATION_NAMES:
        assert re.search(rf'<input type="checkbox" name="{name}"[^>]*checked', page)
    assert 'name="idempotency_key" value="k-1"' in page  # the same pledge when resubmitted


def test_more_options_is_closed_until_needed(client, slate_and_supporter):
    slate, _ = slate_and_supporter
    a = slate_candidates(slate)[0]
    page = client.get(f"/slates/{slate.slug}/pledge/").content.decode()
    assert details_tag(page) == '<details class="more-options">'
    assert "<summary>More options</summary>" in page
    assert f'name="share_{a.pk}"' in page and 'name="condition_min_signatures"' in page
    # An error outside the options leaves them closed; one inside opens them.
    assert " open" not in details_tag(post(client, slate, amount="abc").content.decode())
    inside = post(client, slate, condition_min_signatures="99").content.decode()
    assert " open" in details_tag(inside)
    assert "Choose between 1 and 3 candidates" in inside


def test_a_required_candidate_not_on_the_slate_is_explained_beside_the_choice(
    client, slate_and_supporter
):
    slate, _ = slate_and_supporter
    a = slate_candidates(slate)[0]
    data = form_data(slate, condition_candidates=[str(a.pk)])
    Invitation.objects.filter(slate=slate, candidate=a).update(status=Invitation.Status.DECLINED)
    response = client.post(f"/slates/{slate.slug}/pledge/", data)
    assert response.status_code == 400
    assert 'id="id_condition_candidates-error"' in response.content.decode()
    assert not Pledge.objects.exists()


def test_one_candidate_has_no_split(client):
    slate = make_open_slate(candidates=1, min_signatures=1)
    client.force_login(UserFactory())
    page = client.get(f"/slates/{slate.slug}/pledge/").content.decode()
    assert 'name="share_' not in page
