"""Issue 18.4: a partner organization learns which of the people its links brought already
pledged, only where they agreed, so it stops asking them."""

import csv
import io

import pytest
from django.urls import reverse

from pledges import intake as pledge_intake
from pledges import referrals
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import PartnerShare
from pledges.validation import PledgeError
from tests.factories import UserFactory, make_partner_organization

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def union(slate):
    return make_partner_organization(name="Teachers Union", endorse=slate)


def test_only_members_who_agreed_are_listed(client, slate, union):
    agreed = UserFactory(first_name="Ann", last_name="Lee")
    silent = UserFactory()
    elsewhere = UserFactory()  # agreed, but came by another route: nothing to share
    for user in (agreed, silent):
        pledge_intake.sign_on(supporter=user, slate=slate, referred_by=union)
    pledge_services.commit_money_pledge(
        pledge=pledge_intake.create_money_pledge(
            attestations=ATTESTED, supporter=agreed, slate=slate, amount_cents=1_500,
            referred_by=union,
        )
    )  # fmt: skip
    pledge_intake.sign_on(supporter=elsewhere, slate=slate)
    referrals.set_partner_sharing(supporter=agreed, organization=union, share=True)
    with pytest.raises(PledgeError):
        referrals.set_partner_sharing(supporter=elsewhere, organization=union, share=True)
    assert not PartnerShare.objects.filter(supporter=elsewhere).exists()

    client.force_login(union.admins.get())
    listed = rows(client.get(reverse("orgs:pledged-csv", args=[union.slug])))
    assert [(r["name"], r["email"], r["slate"]) for r in listed] == [
        ("Ann Lee", agreed.email, slate.name)
    ]
    assert set(listed[0]["kinds"].split("; ")) == {"Sign-on", "Money"}

    # Withdrawn: gone from the list at once.
    referrals.set_partner_sharing(supporter=agreed, organization=union, share=False)
    assert rows(client.get(reverse("orgs:pledged-csv", args=[union.slug]))) == []


def test_a_supporter_agrees_and_withdraws_on_my_pledges(client, slate, union):
    supporter = UserFactory()
    pledge_intake.sign_on(supporter=supporter, slate=slate, referred_by=union)
    client.force_login(supporter)
    page = client.get(reverse("pledges:mine"))
    assert "Let Teachers Union know I pledged" in page.content.decode()
    url = reverse("pledges:partner-sharing", args=[union.slug])
    client.post(url, {"share": "1"})
    assert PartnerShare.objects.filter(supporter=supporter, organization=union).exists()
    assert "Stop telling Teachers Union" in client.get(reverse("pledges:mine")).content.decode()
    client.post(url, {"share": "0"})
    assert not PartnerShare.objects.exists()


def test_an_organization_that_brought_nobody_cannot_be_told(client, slate, union):
    supporter = UserFactory()
    pledge_intake.sign_on(supporter=supporter, slate=slate)
    client.force_login(supporter)
    response = client.post(
        reverse("pledges:partner-sharing", args=[union.slug]), {"share": "1"}, follow=True
    )
    assert "did not bring any of your pledges" in response.content.decode()
    assert not PartnerShare.objects.exists()


def test_other_organizations_admins_may_not_download(client, slate, union):
    other = make_partner_organization(name="Civic League", endorse=slate)
    client.force_login(other.admins.get())
    assert client.get(reverse("orgs:pledged-csv", args=[union.slug])).status_code == 403
