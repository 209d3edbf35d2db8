"""The pressure loop in the browser: a supporter asks an unsigned candidate to sign, the count
rises on the candidate's public page and on the organizer's live dashboard, then that candidate
signs with plank commitments (one with a public reservation) and the slate page shows the
tallies."""

import pytest
from playwright.sync_api import expect

from candidates.models import Ask, PlankCommitment
from tests.factories import UserFactory, make_open_slate, organizer_of, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)


def test_ask_then_sign_with_commitments(live_server, new_page, log_in):
    base = live_server.url
    slate = make_open_slate(candidates=3, min_signatures=3)
    candidate = slate_candidates(slate)[0]

    # The organizer watches the live dashboard: no asks yet.
    organizer_page = new_page()
    log_in(organizer_page, organizer_of(slate))
    organizer_page.goto(f"{base}/organize/slates/{slate.slug}/")
    dashboard_count = organizer_page.get_by_test_id(f"asks-{candidate.pk}")
    expect(dashboard_count).to_have_text("0")

    public_page = new_page()
    public_page.goto(base + candidate.get_absolute_url())
    expect(public_page.get_by_test_id("asks")).to_contain_text("0 supporters asked")

    # A supporter asks from the slate page.
    supporter_page = new_page()
    log_in(supporter_page, UserFactory(first_name="Rosa"))
    supporter_page.goto(base + slate.get_absolute_url())
    supporter_page.locator("li", has_text=candidate.full_name).get_by_role(
        "link", name="Ask them to sign"
    ).click()
    expect(supporter_page.get_by_test_id("call-script")).to_contain_text(candidate.full_name)
    supporter_page.get_by_label("Your message to them").fill("Health care needs a bloc. Sign!")
    supporter_page.get_by_role("button", name=f"Ask {candidate.full_name} to sign").click()
    expect(supporter_page.get_by_text("Your ask is counted")).to_be_visible()
    expect(supporter_page.get_by_test_id("ask-count")).to_have_text("1")
    assert Ask.objects.filter(candidate=candidate).count() == 1

    # The count rises on the candidate's public page and on the dashboard (its live poll).
    public_page.reload()
    expect(public_page.get_by_test_id("asks")).to_contain_text("1 supporter asked")
    expect(dashboard_count).to_have_text("1", timeout=15_000)

    # The candidate signs, committing to both planks, one with a public reservation.
    candidate_page = new_page()
    log_in(candidate_page, candidate.user)
    candidate_page.goto(f"{base}/candidate/slates/{slate.slug}/sign/")
    plank_two = candidate_page.get_by_test_id("plank-2")
    plank_two.get_by_label("I commit, with a public reservation").check()
    plank_two.get_by_label("Your reservation on plank 2").fill("Net zero by 2050, not 2045.")
    candidate_page.get_by_label("Type your full name to sign").fill(candidate.full_name)
    candidate_page.get_by_label("I have read this version").check()
    candidate_page.get_by_role("button", name="Sign the agreement").click()
    expect(candidate_page.get_by_text(f"You signed the {slate.name} agreement")).to_be_visible()
    assert PlankCommitment.objects.filter(signature__candidate=candidate).count() == 2

    # The slate page shows the tallies and the candidate's commitments.
    public_page.goto(base + slate.get_absolute_url())
    expect(public_page.get_by_test_id("tally-1")).to_have_text(
        "1 of 3 committed to Universal health care"
    )
    expect(public_page.get_by_test_id("tally-2")).to_have_text("1 of 3 committed to Climate")
    expect(public_page.get_by_test_id("plank-tallies")).to_contain_text(
        f"{candidate.full_name}: “Net zero by 2050, not 2045.”"
    )
    expect(public_page.get_by_test_id(f"commitments-{candidate.pk}")).to_contain_text(
        "Universal health care: committed"
    )
