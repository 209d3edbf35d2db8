"""Partner organizations' pages: the public page, the admins' dashboard, endorsing."""

import re

import pytest
from django.urls import reverse

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate import partners
from slate.models import Endorsement, PartnerOrganization
from tests.compliance.helpers import DETAILS
from tests.factories import UserFactory, make_draft_slate, make_staff, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_admin():
    return with_totp(UserFactory())


@pytest.fixture
def unverified_org(org_admin):
    return partners.create_partner_organization(name="Local 99", kind="union", admin=org_admin)


@pytest.fixture
def org(unverified_org):
    return partners.verify_partner_organization(organization=unverified_org, actor=make_staff())


@pytest.fixture
def endorsed(slate, org, org_admin):
    partners.endorse_slate(organization=org, slate=slate, actor=org_admin, statement="All in.")
    return slate


def admin_urls(org):
    return [
        reverse("orgs:dashboard", args=[org.slug]),
        reverse("orgs:endorse", args=[org.slug]),
    ]


def test_the_organization_page_is_public(client, org, endorsed):
    page = client.get(reverse("orgs:detail", args=[org.slug])).content.decode()
    assert "Local 99" in page and endorsed.name in page and "All in." in page
    assert reverse("orgs:dashboard", args=[org.slug]) not in page
    assert client.get(reverse("orgs:detail", args=["nobody"])).status_code == 404


def test_drafts_do_not_show_on_the_organization_page(client, org):
    draft = make_draft_slate()
    Endorsement.objects.create(organization=org, slate=draft)  # only to test the filter
    assert draft.name not in client.get(reverse("orgs:detail", args=[org.slug])).content.decode()


def test_admin_pages_need_this_organizations_admin(client, org, slate, organizer):
    for url in admin_urls(org):
        assert client.get(url)["Location"].startswith("/accounts/login/")
    other_admin = with_totp(UserFactory())
    partners.create_partner_organization(name="Elsewhere", kind="civic", admin=other_admin)
    for user in (UserFactory(), other_admin, organizer):
        client.force_login(user)
        for url in admin_urls(org):
            assert client.get(url).status_code == 403, (user, url)
        assert (
            client.post(reverse("orgs:endorse", args=[org.slug]), {"slate": slate.slug}).status_code
            == 403
        )
        assert client.post(reverse("orgs:withdraw", args=[org.slug, slate.slug])).status_code == 403
    assert not Endorsement.objects.exists()
    client.force_login(make_staff())
    for url in admin_urls(org):
        assert client.get(url).status_code == 200


def test_dashboard_shows_links_snippet_and_only_aggregates(client, org, org_admin, endorsed):
    donor = UserFactory(email="private.donor@example.org")
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED,
        supporter=donor,
        slate=endorsed,
        amount_cents=4_200,
        referred_by=org,
        supporter_state="MI",
    )
    pledge_services.commit_money_pledge(pledge=pledge)
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=endorsed, hours=5, activities=["canvassing"],
        zip_code="48201", referred_by=org,
    )  # fmt: skip
    pledge_services.commit_money_pledge(  # not through the org: not counted
        pledge=pledge_intake.create_money_pledge(
            attestations=ATTESTED,
            supporter=UserFactory(),
            slate=endorsed,
            amount_cents=99_900,
            donor_details=DETAILS,  # over $200 to a candidate: contributor details needed
        )
    )
    client.force_login(org_admin)
    page = client.get(reverse("orgs:dashboard", args=[org.slug])).content.decode()
    assert 'data-testid="referred-pledges">2<' in page
    assert 'data-testid="referred-money">$42<' in page
    assert 'data-testid="referred-hours">5<' in page
    assert f"/r/{org.slug}/{endorsed.slug}/" in page
    assert f"/embed/slates/{endorsed.slug}/?org={org.slug}" in page
    assert "&lt;iframe" in page  # the snippet, shown as text to copy
    assert "private.donor" not in page and "48201" not in page
    # The donor's state as a word (the page's random CSRF token may hold the letters "MI").
    assert re.search(r"\bMI\b", page) is None


def test_admin_endorses_and_withdraws_through_the_pages(client, org, org_admin, slate):
    client.force_login(org_admin)
    response = client.post(
        reverse("orgs:endorse", args=[org.slug]), {"slate": slate.slug, "statement": "Yes."}
    )
    assert response["Location"] == reverse("orgs:dashboard", args=[org.slug])
    assert Endorsement.objects.get().statement == "Yes."
    withdraw = reverse("orgs:withdraw", args=[org.slug, slate.slug])
    dashboard = client.get(reverse("orgs:dashboard", args=[org.slug])).content.decode()
    assert f'href="{withdraw}"' in dashboard  # a link to the question, not a one-click form
    question = client.get(withdraw)
    assert question.status_code == 200
    assert f"Withdraw Local 99's endorsement of {slate.name}?" in question.content.decode()
    assert Endorsement.objects.exists()  # asking withdraws nothing
    client.post(withdraw)
    assert not Endorsement.objects.exists()
    assert client.get(withdraw).status_code == 404  # nothing left to withdraw


def test_an_unverified_organization_says_so_and_its_endorsements_are_not_public(
    client, unverified_org, org_admin, slate
):
    partners.endorse_slate(organization=unverified_org, slate=slate, actor=org_admin,
                           statement="We are the real Local 99.")  # fmt: skip
    detail = reverse("orgs:detail", args=[unverified_org.slug])
    for page in (client.get(detail), client.get(slate.get_absolute_url())):
        assert "We are the real Local 99." not in page.content.decode()
    assert "awaiting verification by Slate staff" in client.get(detail).content.decode()
    assert client.get(f"/api/v1/slates/{slate.slug}/endorsements").json() == []
    client.force_login(org_admin)  # its admins see what will show once it is verified
    for url in (detail, reverse("orgs:dashboard", args=[unverified_org.slug]),
                reverse("api:webhooks-page", args=[unverified_org.slug])):  # fmt: skip
        assert "awaiting verification by Slate staff" in client.get(url).content.decode(), url
    assert "We are the real Local 99." in client.get(detail).content.decode()


def test_the_slate_page_shows_each_statement_with_its_endorser_s_link(
    client, org, org_admin, slate
):
    partners.endorse_slate(organization=org, slate=slate, actor=org_admin,
                           statement="Our members back every signer.")  # fmt: skip
    page = client.get(slate.get_absolute_url()).content.decode()
    assert f'<a href="{reverse("orgs:detail", args=[org.slug])}">Local 99</a>' in page
    assert "Our members back every signer." in page
    assert (
        "awaiting verification"
        not in client.get(reverse("orgs:detail", args=[org.slug])).content.decode()
    )


@pytest.mark.parametrize("bad", ["", "no-such-slate", "draft", "nul"])
def test_bad_endorsements_are_form_errors_and_endorse_nothing(client, org, org_admin, slate, bad):
    data = {"slate": slate.slug, "statement": "ok"}
    if bad == "draft":
        data["slate"] = make_draft_slate().slug
    elif bad == "nul":
        data["statement"] = "bad\x00"
    else:
        data["slate"] = bad
    client.force_login(org_admin)
    response = client.post(reverse("orgs:endorse", args=[org.slug]), data)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Endorsement.objects.exists()


def test_registering_an_organization_makes_the_user_its_admin(client):
    user = with_totp(UserFactory())
    client.force_login(user)
    response = client.post(
        reverse("orgs:new"), {"name": "River Valley Voters", "kind": "civic", "website": ""}
    )
    organization = PartnerOrganization.objects.get()
    assert response["Location"] == reverse("orgs:dashboard", args=[organization.slug])
    assert list(organization.admins.all()) == [user] and not organization.verified
    assert "River Valley Voters" in client.get(reverse("orgs:index")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "kind": "civic"},
        {"name": "X", "kind": "cult"},
        {"name": "Local 99", "kind": "union"},  # the address is taken
        {"name": "Y", "kind": "civic", "website": "not a url"},
        {"name": "\x00", "kind": "civic"},
    ],
)
def test_bad_registrations_are_form_errors(client, org, data):
    client.force_login(UserFactory())
    response = client.post(reverse("orgs:new"), data)
    assert response.status_code == 400
    assert PartnerOrganization.objects.count() == 1
