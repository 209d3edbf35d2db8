"""A signer invites a campaign aide who has no account: the aide follows the emailed link,
signs up with that address (no confirmation email: the link proved it), accepts, sets up
two-factor when the room pages ask for it, and reads the signers' room."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.mfa import totp_code
from tests.factories import LOCKED_OR_LATER, make_open_slate, sign, slate_candidates

pytestmark = pytest.mark.django_db(transaction=True)

AIDE = "field.director@campaign.example"


def test_invite_sign_up_accept_and_enter_the_room(live_server, new_page, log_in):
    base = live_server.url
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    sign(first, slate)
    sign(second, slate)  # transactional test: the lock follows on commit
    slate.refresh_from_db()
    assert slate.state in LOCKED_OR_LATER

    # The first signer adds an address no account uses: it is invited, and waits as such.
    signer = new_page()
    log_in(signer, first.user)
    signer.goto(f"{base}/volunteer/campaign/room/")
    signer.get_by_label("Their email address").fill(AIDE)
    signer.get_by_role("button", name="Add to my staff").click()
    expect(signer.get_by_text(f"{AIDE} is invited: we email them a link")).to_be_visible()
    expect(signer.get_by_test_id("staff-invitations")).to_contain_text(AIDE)

    # The aide follows the emailed link and signs up with the invited address.
    [message] = [m for m in mail.outbox if m.to == [AIDE]]
    link = re.search(r"https?://[^/\s]+(/volunteer/staff/join/\S+/)", message.body).group(1)
    aide = new_page()
    aide.goto(base + link)
    expect(
        aide.get_by_role("heading", name=f"Join {first.full_name}'s campaign staff")
    ).to_be_visible()
    aide.get_by_role("link", name=f"Sign up with {AIDE}").click()
    expect(aide.get_by_label("Email")).to_have_value(AIDE)  # filled in from the invitation
    aide.get_by_label("Password", exact=True).fill("a-long-Pass-phrase-9")
    aide.get_by_label("Password (again)").fill("a-long-Pass-phrase-9")
    aide.get_by_role("button", name="Sign Up").click()

    # Back on the invitation, logged in: accept. The room pages then ask for two-factor.
    aide.get_by_role("button", name=f"Accept: join {first.full_name}'s staff").click()
    expect(aide.get_by_text("campaign staff member you need two-factor")).to_be_visible()
    # allauth asks a fresh signup to confirm the password before it changes security settings.
    aide.get_by_label("Password").fill("a-long-Pass-phrase-9")
    aide.get_by_role("button", name="Confirm").click()
    secret = aide.locator("#authenticator_secret").input_value()
    aide.get_by_label("Authenticator code").fill(totp_code(secret))
    aide.get_by_role("button", name="Activate").click()
    aide.wait_for_url(re.compile(r".*/accounts/2fa/.*"))

    # Now the room: the signers, as each chose to share themselves.
    aide.goto(f"{base}/volunteer/campaign/room/")
    aide.get_by_role("link", name=slate.name).click()
    expect(aide.get_by_test_id(f"member-{first.pk}")).to_be_visible()
    expect(aide.get_by_test_id(f"member-{second.pk}")).to_be_visible()

    # The signer's page no longer lists the invitation, and the link is spent.
    signer.reload()
    expect(signer.get_by_test_id("staff")).to_contain_text(AIDE)
    expect(signer.get_by_test_id("staff-invitations")).to_have_count(0)
    spent = new_page()
    spent.goto(base + link)
    expect(spent.get_by_text("This invitation was used already")).to_be_visible()
