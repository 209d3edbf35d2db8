"""After the lock, in the browser: the organizer puts a vote on the record (a missing vote is
explained first), the slate page and a signer's page show who kept and who broke the bloc;
a signer chooses what to share, adds a staff member, and that staff member reads it in the
signers' room, which a supporter cannot open."""

import pytest
from playwright.sync_api import expect

from tests.factories import (
    LOCKED_OR_LATER,
    UserFactory,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
    with_totp,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_vote_on_the_record_and_the_signers_room(live_server, new_page, log_in):
    base = live_server.url
    slate = make_open_slate(candidates=3, min_signatures=2)
    first, second, _ = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)  # transactional test: the lock follows on commit
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER

    # The organizer records the vote; a signer's missing vote is explained, nothing written.
    organizer = new_page()
    log_in(organizer, organizer_of(slate))
    organizer.goto(f"{base}/organize/slates/{slate.slug}/")
    organizer.get_by_role("link", name="Vote record").click()
    organizer.get_by_label("Plank").select_option(label="1. Universal health care")
    organizer.get_by_label("What was voted").fill("H.R. 676, final passage")
    organizer.get_by_label("Date of the vote").fill(slate.locked_at.date().isoformat())
    organizer.get_by_label("Yes").check()
    organizer.get_by_label("Source").fill("https://clerk.house.gov/Votes/2027101")
    organizer.get_by_label(f"{first.full_name} voted").select_option("yes")
    organizer.get_by_role("button", name="Put the vote on the record").click()
    expect(organizer.get_by_text(f"Choose how {second.full_name} voted.")).to_be_visible()
    organizer.get_by_label(f"{second.full_name} voted").select_option("no")
    organizer.get_by_role("button", name="Put the vote on the record").click()
    expect(organizer.get_by_text("is on the record; supporters are told")).to_be_visible()

    public = new_page()
    public.goto(base + slate.get_absolute_url())
    record = public.get_by_test_id("vote-records")
    expect(record).to_contain_text("H.R. 676, final passage")
    expect(record).to_contain_text(f"{second.full_name}: No — broke the bloc")
    public.get_by_role("link", name=second.full_name).first.click()
    expect(public.get_by_test_id("bloc-tally")).to_have_text(
        "Kept the bloc in 0 of 1 recorded vote; broke it in 1."
    )

    # The first signer shares a phone number and adds their scheduler as staff.
    aide = with_totp(UserFactory(email="scheduler@campaign.example"))
    signer = new_page()
    log_in(signer, first.user)
    signer.goto(f"{base}/candidate/")
    signer.get_by_role("link", name="The signers' room").click()
    signer.get_by_label("Direct phone").fill("+1 415 555 0100")
    signer.get_by_role("button", name="Save what I share").click()
    expect(signer.get_by_text("the other signers see what you filled in")).to_be_visible()
    signer.get_by_label("Their email address").fill("scheduler@campaign.example")
    signer.get_by_role("button", name="Add to my staff").click()
    expect(signer.get_by_test_id("staff")).to_contain_text("scheduler@campaign.example")

    # The staff member reads it in the room, with the monthly joint appearances.
    staff = new_page()
    log_in(staff, aide)
    staff.goto(f"{base}/volunteer/campaign/room/")
    staff.get_by_role("link", name=slate.name).click()
    expect(staff.get_by_test_id(f"member-{first.pk}")).to_contain_text("+1 415 555 0100")
    expect(staff.get_by_test_id(f"member-{second.pk}")).to_contain_text(
        "Shares no contact details here yet."
    )
    expect(staff.get_by_test_id("appearances")).to_contain_text(first.state)

    # A supporter is told nothing is there.
    outsider = new_page()
    log_in(outsider, UserFactory())
    response = outsider.goto(f"{base}/volunteer/slates/{slate.slug}/room/")
    assert response.status == 404
