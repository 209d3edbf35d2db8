"""Page permissions and bad input, without a browser."""

import pytest

from candidates.models import Signature
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from tests.factories import UserFactory, make_open_slate, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate()


def test_anonymous_visitors_are_sent_to_log_in(client, slate):
    for url in (f"/slates/{slate.slug}/pledge/", "/pledges/", "/candidate/", "/pledges/1/card/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_a_supporter_never_sees_anothers_pledge(client, slate):
    owner, other = UserFactory(), UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=owner, slate=slate, amount_cents=900
    )
    client.force_login(other)
    for url in (
        f"/pledges/{pledge.pk}/",
        f"/pledges/{pledge.pk}/card/",
        f"/pledges/{pledge.pk}/cancel/",
        f"/pledges/{pledge.pk}/complete-payment/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/pledges/{pledge.pk}/cancel/").status_code == 404
    assert client.post(f"/pledges/{pledge.pk}/card/confirm/").status_code == 404
    pledge.refresh_from_db()
    assert pledge.state == "pending_card"


def test_bad_pledge_input_is_a_400_with_nothing_written(client, slate):
    client.force_login(UserFactory())
    response = client.post(
        f"/slates/{slate.slug}/pledge/",
        {"amount": "-5", "supporter_state": "CA", "idempotency_key": "k1"},
    )
    assert response.status_code == 400
    assert b"Pledge between" in response.content
    response = client.post(
        f"/slates/{slate.slug}/volunteer/",
        {"hours": "3", "activities": ["canvassing"], "zip_code": "nope", "supporter_state": "CA",
         "idempotency_key": "k2"},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"ZIP" in response.content
    assert not Pledge.objects.exists()


def attested_form(slate) -> dict[str, str]:
    """The attestation boxes ticked and the digest of the conditions the page showed."""
    from pledges.declarations import ATTESTATION_NAMES, conditions_digest, slate_conditions_text

    return dict.fromkeys(ATTESTATION_NAMES, "on") | {
        "conditions_digest": conditions_digest(slate_conditions_text(slate))
    }


def test_double_submit_makes_one_pledge(client, slate):
    client.force_login(UserFactory())
    form = {"amount": "50", "supporter_state": "CA", "idempotency_key": "same-render",
            **attested_form(slate)}  # fmt: skip
    first = client.post(f"/slates/{slate.slug}/pledge/", form)
    second = client.post(f"/slates/{slate.slug}/pledge/", form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Pledge.objects.count() == 1


def test_only_candidates_reach_candidate_pages(client, slate):
    client.force_login(UserFactory())
    assert client.get("/candidate/").status_code == 403
    assert client.get(f"/candidate/slates/{slate.slug}/sign/").status_code == 403


def test_signing_with_the_wrong_name_is_a_400_and_signs_nothing(client, slate):
    candidate = slate_candidates(slate)[0]
    client.force_login(candidate.user)
    page = client.get(f"/candidate/slates/{slate.slug}/sign/")
    version_id = page.context["form"].initial["agreement_version_id"]
    response = client.post(
        f"/candidate/slates/{slate.slug}/sign/",
        {"typed_name": "Someone Else", "consent": "on", "agreement_version_id": version_id},
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()
    response = client.post(
        f"/candidate/slates/{slate.slug}/sign/",
        {"typed_name": candidate.full_name, "agreement_version_id": version_id},
    )
    assert response.status_code == 400  # no consent
    assert not Signature.objects.exists()


def test_csrf_is_enforced_on_pledge_forms(slate):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory())
    response = strict.post(f"/slates/{slate.slug}/pledge/", {"amount": "50"})
    assert response.status_code == 403


def test_the_slate_page_has_share_links_and_a_growth_chart_of_live_pledges(client, slate):
    import json
    from urllib.parse import quote

    from django.utils import timezone

    empty = client.get(f"/slates/{slate.slug}/").content.decode()
    assert 'id="growth-chart"' not in empty  # nothing to draw before the first live pledge
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=4, activities=["canvassing"], zip_code="10001"
    )

    page = client.get(f"/slates/{slate.slug}/").content.decode()

    url = f"http://testserver/slates/{slate.slug}/"
    assert f'value="{url}"' in page
    assert f"sharer.php?u={quote(url, safe='')}" in page
    assert "mailto:?subject=" in page and "twitter.com/intent/tweet" in page
    data = page.split('<script id="growth-data" type="application/json">')[1].split("</script>")[0]
    series = json.loads(data)
    assert series["days"] == [timezone.localdate().isoformat()]
    assert series["pledges"] == [1]
