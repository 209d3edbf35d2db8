"""A partner's sub-code attributes a pledge to that code on the partner dashboard: the admin
adds a chapter's code, a member follows the chapter's link in Chromium, lands on the
organization's page for the slate, signs on by email, and the dashboard counts it there."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from pledges.models import Pledge
from slate import partners
from tests.factories import make_open_slate, make_partner_organization

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_partner_sub_code_attributes_a_pledge_on_the_dashboard(live_server, new_page, log_in):
    slate = make_open_slate(candidates=3, min_signatures=3)
    org = make_partner_organization(name="Riverside Teachers", endorse=slate)
    admin = org.admins.get()
    partners.endorse_slate(
        organization=org, slate=slate, actor=admin, statement="Teachers for a coordinated slate."
    )
    base = live_server.url

    # The admin adds a code for one chapter and copies its link for this slate.
    admin_page = new_page()
    log_in(admin_page, admin)
    admin_page.goto(base + f"/orgs/{org.slug}/dashboard/")
    admin_page.get_by_role("link", name="codes for chapters, mailings and events").click()
    admin_page.get_by_label("Chapter, mailing or event").fill("Eastside chapter")
    admin_page.get_by_label("Kind").select_option("chapter")
    admin_page.get_by_label("Code in the link (optional)").fill("eastside")
    admin_page.get_by_role("button", name="Add the code").click()
    expect(admin_page.get_by_text("Code eastside added")).to_be_visible()
    admin_page.get_by_role("link", name="Back to the dashboard").click()
    row = admin_page.get_by_test_id("code-eastside")
    expect(row.get_by_test_id("code-pledges")).to_have_text("0")
    link = row.get_by_test_id("code-link").input_value()
    assert link.endswith(f"/r/{org.slug}/{slate.slug}/eastside/"), link

    # A member follows the chapter's link: the organization's page, then signs on by email.
    member = new_page()
    member.goto(base + "/" + link.split("/", 3)[3])
    expect(member.get_by_test_id("org-statement")).to_contain_text("Teachers for a coordinated")
    member.get_by_role("link", name="Sign on", exact=True).click()
    member.get_by_label("Your name").fill("Ana Lopez")
    member.get_by_label("Email").fill("ana@example.org")
    member.get_by_label("ZIP code").fill("44114")
    member.get_by_role("button", name="Sign on").click()
    expect(member.get_by_role("heading", name="Check your email")).to_be_visible()
    [message] = mail.outbox
    confirm = re.search(r"https?://[^/\s]+(/sign-on/confirm/\S+/)", message.body).group(1)
    member.goto(base + confirm)
    member.get_by_role("button", name="Confirm my sign-on").click()
    expect(member.get_by_test_id("thanks-for")).to_be_visible()

    pledge = Pledge.objects.get(slate=slate, kind="signon")
    assert (pledge.referred_by_id, pledge.partner_code.code) == (org.pk, "eastside")

    # The dashboard counts it for the chapter's code, and for the organization.
    admin_page.reload()
    row = admin_page.get_by_test_id("code-eastside")
    expect(row.get_by_test_id("code-pledges")).to_have_text("1")
    expect(admin_page.get_by_test_id("referred-pledges")).to_have_text("1")
