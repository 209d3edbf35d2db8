"""An organizer writes an update in Chromium, previews it (Markdown shown formatted, HTML shown
as typed), sees who it reaches, sends a test to themselves, sends it to the money pledgers,
and sees it counted on the sent-updates list."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from organizing.models import OrganizerUpdate
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import UserFactory, make_open_slate, organizer_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_write_preview_test_and_send_an_update(live_server, page, log_in):
    slate = make_open_slate(candidates=3, min_signatures=2)
    organizer = organizer_of(slate)
    donors = [UserFactory(), UserFactory()]
    for donor in donors:
        pledge_services.commit_money_pledge(
            pledge=pledge_intake.create_money_pledge(
                attestations=ATTESTED, supporter=donor, slate=slate, amount_cents=3_000,
                supporter_state="CA",
            )
        )  # fmt: skip
    volunteer = UserFactory()
    pledge_intake.create_volunteer_pledge(
        supporter=volunteer, slate=slate, hours=4, activities=["canvassing"], zip_code="10001"
    )
    log_in(page, organizer)
    page.goto(f"{live_server.url}/organize/slates/{slate.slug}/")
    page.get_by_role("link", name="Write to supporters").click()
    expect(page.get_by_text("No updates sent yet.")).to_be_visible()

    page.get_by_label("Subject").fill("Phone bank on Thursday")
    page.get_by_label("Update", exact=True).fill(
        "We call voters **Thursday at 6pm**.\n\n- bring a phone\n- bring a friend\n\n"
        "<script>alert('x')</script>"
    )
    page.get_by_label("Money").check()
    mail.outbox.clear()
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_test_id("preview")
    expect(preview.locator("strong", has_text="Thursday at 6pm")).to_be_visible()
    expect(preview.locator("li")).to_have_count(2)
    expect(preview).to_contain_text("<script>alert('x')</script>")  # shown, never run
    expect(page.get_by_test_id("reached")).to_have_text("2")
    assert mail.outbox == []

    page.get_by_role("button", name="Send me a test").click()
    expect(page.get_by_text(f"A test went to {organizer.email}.")).to_be_visible()
    assert [m.to for m in mail.outbox] == [[organizer.email]]
    assert mail.outbox[0].subject == "[Test] Phone bank on Thursday"
    mail.outbox.clear()

    page.get_by_role("button", name="Send to 2 supporters").click()
    expect(page.get_by_text("is on its way")).to_be_visible()
    table = page.get_by_test_id("sent-updates")
    expect(table).to_contain_text("Phone bank on Thursday")
    expect(table).to_contain_text("money")
    assert sorted(a for m in mail.outbox for a in m.to) == sorted(d.email for d in donors)
    update = OrganizerUpdate.objects.get()
    assert update.status == OrganizerUpdate.Status.SENT
    row = table.locator("tbody tr").first
    expect(row.locator("td").nth(2)).to_have_text("2")  # sent
