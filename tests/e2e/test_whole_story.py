"""The whole story in one browser test, every step through the pages people use:

an organizer creates and publishes a slate with the wizard → a partner organization endorses it
→ two supporters pledge with test cards through the (fake) Stripe.js form, one through the
partner's referral link → three candidates claim their profiles through their invitation links,
the organizer verifies them, and they sign → the slate locks and the release job runs →
the supporters see "Captured", the organizer's dashboard shows the captured total, and the
partner's dashboard shows the pledge it brought; each supporter got two emails.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from pledges.models import Pledge
from slate.models import Slate
from slate.states import SlateState
from tests.e2e.test_money_journey import attest, fill_card
from tests.factories import (
    UserFactory,
    make_open_slate,
    make_partner_organization,
    organizer_of,
    transactional,
    with_totp,
)

pytestmark = pytest.mark.django_db(transaction=True)

CANDIDATES = (("Ada Prairie", "NE"), ("Ben Plains", "KS"), ("Cy Meadow", "IA"))


def create_and_publish(page, base: str) -> tuple[Slate, list[str]]:
    """The organizer's wizard; returns the slate and the candidates' invitation links."""
    page.goto(base + "/organize/new/")
    page.get_by_label("Name of the slate").fill("Prairie Coordinated Slate")
    page.get_by_label("Mission").fill("Three prairie races, one program.")
    deadline = (timezone.now() + timedelta(days=45)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Deadline").fill(deadline)
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#id_planks-0-title").fill("Universal health care")
    page.get_by_role("button", name="Save and continue").click()
    for name, state in CANDIDATES:
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Office", exact=True).select_option("house")
        page.get_by_label("State", exact=True).select_option(state)
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(page.get_by_text(f"{name} is invited")).to_be_visible()
    links = page.get_by_test_id("claim-link")
    expect(links).to_have_count(3)
    claim_links = [links.nth(i).input_value() for i in range(3)]
    page.get_by_role("link", name="Continue: threshold rule").click()
    page.get_by_label("Signatures needed (K)").fill("3")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Agreement text").fill("We campaign together and vote as a bloc.")
    page.get_by_role("button", name="Save and preview").click()
    page.get_by_role("button", name="Publish the slate").click()
    expect(page.get_by_text("is published")).to_be_visible()
    slate = Slate.objects.get(name="Prairie Coordinated Slate")
    assert slate.state == SlateState.OPEN
    return slate, claim_links


def pledge_with_card(page, base: str, slate: Slate, dollars: str, state: str) -> None:
    page.goto(base + slate.get_absolute_url())
    page.get_by_role("link", name="Pledge money").click()
    page.get_by_label("Amount in dollars").fill(dollars)
    page.get_by_label("Your state").select_option(state)
    attest(page)
    page.get_by_role("button", name="Continue to card").click()
    expect(page.get_by_role("heading", name="Save your card")).to_be_visible()
    fill_card(page)
    page.get_by_role("button", name="Save card and pledge").click()
    expect(page.get_by_text("Your card is saved")).to_be_visible()


def test_organizer_to_release_through_the_pages(live_server, new_page, localstripe, log_in):
    base = live_server.url

    # An organizer creates and publishes the slate: one whose earlier slate went public, so it
    # opens without staff review (a new organizer's first slate waits for it:
    # tests/organizing/test_review_and_organizers.py).
    organizer = organizer_of(make_open_slate(candidates=1, min_signatures=1))
    organizer_page = new_page()
    log_in(organizer_page, organizer)
    slate, claim_links = create_and_publish(organizer_page, base)

    # A partner organization endorses it and hands out its referral link.
    partner = make_partner_organization(name="Prairie Nurses Union")
    partner_page = new_page()
    log_in(partner_page, partner.admins.get())
    partner_page.goto(base + f"/orgs/{partner.slug}/dashboard/")
    partner_page.get_by_label("Slate", exact=True).select_option(slate.slug)
    partner_page.get_by_role("button", name="Endorse").click()
    # The endorsement is said on the page, and it links to the organization's own page for it.
    expect(
        partner_page.get_by_role("link", name=f"{partner.name} endorses {slate.name}")
    ).to_be_visible()
    referral_link = partner_page.get_by_test_id("referral-link").input_value()

    # Two supporters pledge with test cards; the second came through the partner's link.
    direct, referred = UserFactory(), UserFactory()
    direct_page, referred_page = new_page(), new_page()
    log_in(direct_page, direct)
    pledge_with_card(direct_page, base, slate, "50", "NE")
    log_in(referred_page, referred)
    referred_page.goto(referral_link)
    pledge_with_card(referred_page, base, slate, "30", "KS")
    assert Pledge.objects.get(supporter=referred).referred_by == partner
    assert Pledge.objects.get(supporter=direct).referred_by is None

    # Three candidates claim their profiles; the organizer verifies each; each signs.
    candidates = []
    for (name, _), link in zip(CANDIDATES, claim_links, strict=True):
        person = with_totp(UserFactory())
        candidate_page = new_page()
        log_in(candidate_page, person)
        candidate_page.goto(link)
        candidate_page.get_by_role("button", name="This is me: claim the profile").click()
        expect(candidate_page.get_by_text("an organizer still has to verify you")).to_be_visible()
        candidates.append((name, candidate_page))
    organizer_page.goto(base + f"/organize/slates/{slate.slug}/candidates/")
    for name, _ in candidates:
        organizer_page.get_by_role("button", name=f"Verify {name}").click()
        expect(organizer_page.get_by_role("button", name=f"Verify {name}")).to_have_count(0)
    for index, (name, candidate_page) in enumerate(candidates):
        candidate_page.goto(base + "/candidate/")
        expect(candidate_page.get_by_test_id("waiting")).to_contain_text("$80")
        candidate_page.get_by_role("link", name="Read and sign the agreement").click()
        candidate_page.get_by_label("Type your full name to sign").fill(name)
        candidate_page.get_by_label("I have read this version").check()
        candidate_page.get_by_role("button", name="Sign the agreement").click()
        expect(candidate_page.get_by_text(f"You signed the {slate.name} agreement")).to_be_visible()
        slate.refresh_from_db()
        if index < 2:
            assert slate.state == SlateState.OPEN

    # The third signature locked the slate; the release ran (Celery runs eagerly here).
    slate.refresh_from_db()
    assert slate.state == SlateState.RELEASED
    for person, page in ((direct, direct_page), (referred, referred_page)):
        pledge = Pledge.objects.get(supporter=person)
        page.goto(base + "/pledges/")
        expect(page.get_by_test_id(f"pledge-{pledge.pk}").get_by_test_id("state")).to_have_text(
            "Captured"
        )
        assert localstripe.count_captures_for(pledge_id=pledge.pk) == 1

    organizer_page.goto(base + f"/organize/slates/{slate.slug}/")
    expect(organizer_page.get_by_test_id("money-captured")).to_have_text("$80")
    partner_page.goto(base + f"/orgs/{partner.slug}/dashboard/")
    expect(partner_page.get_by_test_id("referred-pledges")).to_have_text("1")
    expect(partner_page.get_by_test_id("referred-money")).to_have_text("$30")

    # Each supporter was emailed once when the card was saved and once when charged, and got
    # the charge's receipt (the milestone news, which they may turn off, aside).
    for person in (direct, referred):
        subjects = [m.subject for m in transactional(mail.outbox) if m.to == [person.email]]
        receipts = [s for s in subjects if s.startswith("Your Slate contribution receipt")]
        assert len(receipts) == 1
        assert sorted(s for s in subjects if s not in receipts) == sorted(
            [
                f"Your pledge to {slate.name} is confirmed",
                f"{slate.name} locked: your pledge was charged",
            ]
        )
