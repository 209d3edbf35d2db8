"""Partner organizations as hubs: sub-codes per chapter, mailing or event counted per code on
the dashboard and in its CSV, the organization's own page for each slate it endorses (its
statement, logo and events first), and the public organizations page."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from pledges.models import Pledge
from pledges.selectors import totals_drift
from slate import partners
from slate import selectors as slate_selectors
from slate.models import PartnerCode, PartnerLogo
from tests.factories import UserFactory, make_open_slate, make_partner_organization, with_totp
from volunteers import shifts

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=3, min_signatures=3)


@pytest.fixture
def org(slate):
    organization = make_partner_organization(name="Local 7", endorse=slate)
    partners.endorse_slate(
        organization=organization, slate=slate, actor=organization.admins.get(),
        statement="Local 7 backs every one of these candidates.",
    )  # fmt: skip
    return organization


def admin_client(org) -> Client:
    client = Client()
    client.force_login(org.admins.get())
    return client


def sign_on_through(link: str, slate) -> Pledge:
    """A member follows ``link`` and signs on with their account."""
    member = Client()
    member.force_login(UserFactory())
    landing = member.get(link)
    assert landing.status_code == 302
    member.post(reverse("pledges:sign-on", args=[slate.slug]), {"supporter_state": "OH"})
    return Pledge.objects.latest("pk")


def test_admins_add_codes_and_bad_input_adds_none(org):
    client = admin_client(org)
    url = reverse("orgs:codes", args=[org.slug])
    assert client.get(url).status_code == 200
    for data, field in (
        ({"label": "", "kind": "chapter"}, "label"),
        ({"label": "Cleveland", "kind": "party"}, "kind"),
        ({"label": "Cleveland", "kind": "chapter", "code": "Not a code!"}, "code"),
        ({"label": "Cleveland", "kind": "chapter", "code": "-x"}, "code"),
    ):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert response.context["form"].errors[field], data
    assert not PartnerCode.objects.exists()

    response = client.post(url, {"label": "Cleveland chapter", "kind": "chapter"})
    assert response["Location"] == url
    assert PartnerCode.objects.get().code == "cleveland-chapter"
    response = client.post(url, {"label": "Again", "kind": "event", "code": "cleveland-chapter"})
    assert response.status_code == 400 and "in use already" in response.content.decode()
    assert PartnerCode.objects.count() == 1

    outsider = Client()
    outsider.force_login(with_totp(UserFactory()))
    assert outsider.post(url, {"label": "Mine", "kind": "other"}).status_code == 403
    assert PartnerCode.objects.count() == 1


def test_a_code_link_credits_the_organization_and_the_code(slate, org):
    code = partners.create_partner_code(
        organization=org, actor=org.admins.get(), label="October mailing", kind="mailing"
    )
    link = reverse("slate:referral-code", args=[org.slug, slate.slug, code.code])
    pledge = sign_on_through(link, slate)
    assert (pledge.referred_by, pledge.partner_code) == (org, code)

    [(listed, counts)] = slate_selectors.partner_code_slices(slate.pk, org)
    assert listed == code and counts.pledge_count == 1
    assert totals_drift(slate.pk).clean  # the maintained 'code' shards agree with a recount

    page = admin_client(org).get(reverse("orgs:dashboard", args=[org.slug])).content.decode()
    assert "October mailing" in page
    assert link in page  # the code's own link, per slate

    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    admin_client(org)
                    .get(reverse("orgs:export-figures", args=[org.slug]))
                    .streaming_content
                ).decode()
            )
        )
    )
    assert rows[0][:3] == ["slate", "slate_name", "code"]
    assert [slate.slug, slate.name, "*", "All your links", "", "1", "0.00", "0"] in rows
    assert [
        slate.slug,
        slate.name,
        code.code,
        "October mailing",
        "mailing",
        "1",
        "0.00",
        "0",
    ] in rows


def test_an_unknown_or_foreign_code_is_ignored_and_the_organization_still_credited(slate, org):
    other = make_partner_organization(name="Elsewhere League", endorse=slate)
    foreign = partners.create_partner_code(
        organization=other, actor=other.admins.get(), label="Their chapter", kind="chapter"
    )
    for code in ("no-such-code", foreign.code):
        link = reverse("slate:referral-code", args=[org.slug, slate.slug, code])
        pledge = sign_on_through(link, slate)
        assert (pledge.referred_by, pledge.partner_code) == (org, None)
    assert slate_selectors.partner_code_slices(slate.pk, other)[0][1].pledge_count == 0
    assert totals_drift(slate.pk).clean


def test_the_organizations_page_for_a_slate_shows_its_statement_logo_and_events_first(slate, org):
    admin = org.admins.get()
    link = reverse("slate:referral", args=[org.slug, slate.slug])
    page_url = reverse("orgs:slate", args=[org.slug, slate.slug])
    assert Client().get(link)["Location"] == page_url  # members land on the organization's page

    picture = io.BytesIO()
    Image.new("RGB", (600, 300), "red").save(picture, format="JPEG")
    client = admin_client(org)
    bad = client.post(
        reverse("orgs:logo", args=[org.slug]),
        {"logo": io.BytesIO(b"<svg onload=alert(1)>")},
    )
    assert bad.status_code == 400 and not PartnerLogo.objects.exists()
    picture.seek(0)
    picture.name = "logo.jpg"
    client.post(reverse("orgs:logo", args=[org.slug]), {"logo": picture})
    served = Client().get(reverse("orgs:logo-png", args=[org.slug]))
    assert served["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join([served.content]))) as logo:
        assert logo.size == (256, 128)  # scaled down, re-encoded

    event = shifts.create_event(
        slate=slate, actor=admin, title="Local 7 phone bank", organization=org
    )
    shifts.add_shift(
        event=event, actor=admin, starts_at=timezone.now() + timedelta(days=3),
        ends_at=timezone.now() + timedelta(days=3, hours=2), activity="phone_banking",
        mode="remote", call_link="https://meet.example.org/local7", capacity=10,
    )  # fmt: skip
    page = Client().get(page_url).content.decode()
    assert "Local 7 backs every one of these candidates." in page
    assert reverse("orgs:logo-png", args=[org.slug]) in page
    assert page.index("Local 7 phone bank") < page.index(slate.mission)  # its events first
    assert reverse("pledges:sign-on", args=[slate.slug]) in page


def test_the_organizations_slate_page_is_only_for_public_endorsements(slate, org):
    other_slate = make_open_slate(candidates=1, min_signatures=1)
    assert Client().get(reverse("orgs:slate", args=[org.slug, other_slate.slug])).status_code == 404
    unverified = make_partner_organization(name="Unverified", endorse=None, verified=False)
    assert (
        Client().get(reverse("orgs:slate", args=[unverified.slug, slate.slug])).status_code == 404
    )
    assert Client().get(reverse("orgs:logo-png", args=[org.slug])).status_code == 404


def test_the_public_organizations_page_links_to_registering_one(org):
    page = Client().get(reverse("orgs:index")).content.decode()
    assert reverse("orgs:new") in page and "Local 7" in page
    assert reverse("orgs:index") in Client().get("/").content.decode()
