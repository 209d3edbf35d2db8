"""Partner organizations' referral links and embeddable widget."""

import pytest

from pledges.models import Pledge
from slate import partners
from slate.selectors import slate_breakdown
from tests.factories import UserFactory, make_open_slate, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def endorsed():
    slate = make_open_slate()
    admin = UserFactory()
    org = partners.create_partner_organization(name="Local 99", kind="union", admin=admin)
    partners.verify_partner_organization(organization=org, actor=make_staff())
    partners.endorse_slate(organization=org, slate=slate, actor=admin)
    return slate, org


def test_a_referred_pledge_is_credited_to_the_organization(client, endorsed):
    slate, org = endorsed
    response = client.get(f"/r/{org.slug}/{slate.slug}/")
    assert response.status_code == 302
    # Members land on the organization's own page for the slate.
    assert response["Location"] == f"/orgs/{org.slug}/slates/{slate.slug}/"
    client.force_login(UserFactory())
    client.post(
        f"/slates/{slate.slug}/volunteer/",
        {"hours": "5", "activities": ["phone_banking"], "zip_code": "10001",
         "supporter_state": "NY", "idempotency_key": "r1"},
    )  # fmt: skip
    assert Pledge.objects.get().referred_by == org
    assert dict(slate_breakdown(slate.pk, "partner"))[str(org.pk)].volunteer_hours == 5


def test_a_non_endorsing_organizations_link_credits_nobody(client):
    slate = make_open_slate()
    other = partners.create_partner_organization(
        name="Elsewhere", kind="civic", admin=UserFactory()
    )
    client.get(f"/r/{other.slug}/{slate.slug}/")
    client.force_login(UserFactory())
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    assert Pledge.objects.get().referred_by is None


def test_an_unverified_organizations_link_credits_nobody(client, endorsed):
    """Anyone can register "Local 99": until staff verify it, its endorsement counts for
    nothing, so an impostor's link cannot claim the pledges it brings."""
    slate, org = endorsed
    partners.unverify_partner_organization(organization=org, actor=make_staff())
    client.get(f"/r/{org.slug}/{slate.slug}/")
    client.force_login(UserFactory())
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    assert Pledge.objects.get().referred_by is None


def test_the_widget_can_be_embedded_and_links_back_through_the_referral(client, endorsed):
    slate, org = endorsed
    response = client.get(f"/embed/slates/{slate.slug}/?org={org.slug}")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert f"/r/{org.slug}/{slate.slug}/" in response.content.decode()
    # Every other page refuses to be framed.
    assert client.get(slate.get_absolute_url()).headers["X-Frame-Options"] == "DENY"


def test_the_widget_of_a_draft_is_not_found(client):
    from tests.factories import make_draft_slate

    assert client.get(f"/embed/slates/{make_draft_slate().slug}/").status_code == 404


@pytest.mark.parametrize("org", ["a b", "a/b", "ünion", "x" * 10_000 + "\n"])
def test_a_widget_whose_org_is_not_a_short_name_says_so(client, endorsed, org):
    slate, _ = endorsed
    response = client.get(f"/embed/slates/{slate.slug}/", {"org": org})
    assert response.status_code == 400
    assert b"org= value is not an organization" in response.content
    assert "X-Frame-Options" not in response.headers  # the partner sees the message in place
