"""Every page × every role → the expected answer.

The list of pages comes from the URL resolver: a page added to one of the namespaces below
without an entry in ``EXPECTED`` fails ``test_every_page_has_an_entry``, so nobody ships a
page whose permissions were never decided. Pages are fetched with GET as each role (POST-only
endpoints answer 405 once the login check has passed).

Answers: an HTTP status, or ``LOGIN`` (a redirect to the login page).
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from candidates import asks
from candidates import services as candidate_services
from candidates.claim_links import claim_token
from compliance.declarations import ATTESTED
from pledges import services as pledge_services
from tests.factories import (
    UserFactory,
    make_open_slate,
    make_partner_organization,
    organizer_of,
    slate_candidates,
    with_totp,
)

pytestmark = pytest.mark.django_db

NAMESPACES = (
    "slate", "pledges", "escrow", "candidates", "organize", "orgs", "volunteers", "volunteer_hosts",
    "compliance", "email",
)  # fmt: skip
NOT_PAGES = {"escrow:stripe-webhook"}  # Stripe's, signed instead; tests/escrow/test_webhooks.py

ROLES = (
    "anonymous",
    "supporter",  # owns the pledge in the URLs
    "other_supporter",
    "candidate",  # invited to, verified on this slate
    "other_candidate",  # a candidate of another slate
    "organizer",  # of this slate
    "other_organizer",  # of another slate
    "partner_admin",  # of an organization endorsing this slate
    "other_partner_admin",  # of an organization that does not
    "staff",
)
LOGIN = "login"


def everyone(status):
    return dict.fromkeys(ROLES, status)


def logged_in(status, **exceptions):
    """``status`` for every logged-in role (``exceptions`` aside); anonymous must log in."""
    return {**everyone(status), "anonymous": LOGIN, **exceptions}


def owner_only(status):
    """A supporter's own pledge: 404 for everyone else, so its existence is not shown."""
    return logged_in(404, supporter=status)


def organizers_only(status=200):
    """This slate's organizers and staff; 403 for other logged-in people."""
    return logged_in(403, organizer=status, staff=status)


def candidates_only(status=200, **exceptions):
    """Accounts with a candidate profile; 403 for others."""
    return logged_in(403, **{"candidate": status, "other_candidate": status, **exceptions})


EXPECTED: dict[str, dict[str, object]] = {
    # --- public pages ---
    "slate:home": everyone(200),
    "slate:directory": everyone(200),
    "slate:detail": everyone(200),
    "slate:progress": everyone(200),
    "slate:share-image": everyone(200),
    "slate:referral": everyone(302),  # remembers the organization, shows the slate
    "slate:widget": everyone(200),
    # --- email preferences: the signed link in every email is the proof, no login; ``token``
    # here is a claim token, not a preferences one, so the page says the link is not valid
    "email:preferences": everyone(400),
    "email:unsubscribe": everyone(400),  # POST one-click (RFC 8058); GET shows the preferences
    # --- supporters ---
    "pledges:money": logged_in(200),
    "pledges:sign-on": everyone(200),  # one form: name, email and ZIP, or one click signed in
    "pledges:sign-on-sent": everyone(200),
    # the emailed link; the claim token in ``token`` is not one, and the page says so
    "pledges:sign-on-confirm": everyone(400),
    # after a pledge: only the supporter has a live one here (the charged pledge); others are
    # sent to the slate
    "pledges:thanks": everyone(302) | {"supporter": 200},
    "pledges:mine": logged_in(200),
    "pledges:detail": owner_only(200),
    "escrow:card": owner_only(200),
    "escrow:card-confirm": logged_in(405),  # POST only; the owner check follows
    "escrow:cancel": owner_only(200),
    # nothing needs the supporter: the owner is sent back to their pledges
    "escrow:complete-payment": owner_only(302),
    # --- candidates ---
    "candidates:home": candidates_only(),
    # a candidate of another slate is not invited to this one: not theirs to sign (404)
    "candidates:sign": candidates_only(other_candidate=404),
    "candidates:withdraw": candidates_only(other_candidate=404),
    "candidates:decline": candidates_only(other_candidate=404),
    "candidates:edit-profile": candidates_only(),  # their own statement, nobody else's
    "candidates:digest": logged_in(405),  # POST only; the candidate check follows
    # public: a candidate invited to a public slate
    "candidates:profile": everyone(200),
    # the photo, to whoever may see the page; this candidate has none: initials instead
    "candidates:photo": everyone(404),
    # public: who to call and what to say; recording the ask (POST) needs an account
    "candidates:ask": everyone(200),
    # the emailed link of an ask by email; the claim token in ``token`` is not one: 400
    "candidates:ask-confirm": everyone(400),
    # --- organizers ---
    "organize:index": logged_in(200),  # lists the slates this person organizes (maybe none)
    "organize:dashboard": organizers_only(),
    "organize:live": organizers_only(),
    "organize:export-pledges": organizers_only(),
    "organize:export-volunteers": organizers_only(),
    # --- volunteers (``pk`` is the money pledge's: no match, shift or sign-up has it) ---
    "volunteers:pledge": logged_in(200),
    "volunteers:home": logged_in(200),
    "volunteers:shifts": logged_in(200),
    "volunteers:change-match": logged_in(405),  # POST only
    "volunteers:consent": logged_in(405),
    "volunteers:sign-up": logged_in(405),
    "volunteers:cancel-signup": logged_in(405),
    # campaigns' people (candidates, their staff) only
    "volunteer_hosts:campaign": candidates_only(),
    # what a signer shares in the signers' rooms and their staff (staff see the rooms' list)
    "volunteer_hosts:room-settings": candidates_only(),
    # the signers' room: signers and their staff only (tests/volunteers/test_room.py); this
    # slate has no signer yet, so nobody enters, and nobody is told it exists
    "volunteer_hosts:room": logged_in(404),
    # organizers, and an endorsing partner's admins; candidates once they have signed
    "volunteer_hosts:events": {**organizers_only(), "partner_admin": 200},
    "volunteer_hosts:event": logged_in(404),  # no such event
    "volunteer_hosts:attendance": logged_in(405),
    "volunteer_hosts:summary": organizers_only(),
    "volunteer_hosts:summary-csv": organizers_only(),
    "organize:new": logged_in(200),  # anyone may start a slate (and becomes its organizer)
    # the wizard's steps edit drafts; this slate is open, so its organizers go to the dashboard
    "organize:basics": organizers_only(302),
    "organize:planks": organizers_only(302),
    "organize:rule": organizers_only(302),
    "organize:agreement": organizers_only(302),
    "organize:preview": organizers_only(302),
    "organize:publish": logged_in(405),  # POST only; the organizer check follows
    "organize:candidates": organizers_only(),
    "organize:candidate-verify": logged_in(405),
    "organize:invitation-revoke": logged_in(405),
    "organize:invitation-email": logged_in(405),
    "organize:deadline": organizers_only(),
    "organize:revise-planks": organizers_only(),
    "organize:asks": organizers_only(),
    "organize:ask-hide": logged_in(405),  # POST only; the organizer check follows
    # the vote record: this slate is open, so its organizers are told it waits for the lock
    "organize:votes": organizers_only(),
    # --- candidates claiming an invitation (anyone logged in may open the link) ---
    "candidates:claim": logged_in(200),
    # --- partner organizations ---
    "orgs:index": logged_in(200),  # lists the organizations this person administers
    "orgs:new": logged_in(200),
    "orgs:detail": everyone(200),  # the public organization page
    "orgs:dashboard": logged_in(403, partner_admin=200, staff=200),
    "orgs:endorse": logged_in(403, partner_admin=200, staff=200),
    "orgs:withdraw": logged_in(403, partner_admin=200, staff=200),  # GET asks to confirm
    # --- compliance: a supporter's receipts and data; committees' reports ---
    "compliance:receipts": logged_in(200),
    "compliance:receipt": owner_only(200),
    "compliance:receipt-pdf": owner_only(200),
    "compliance:donor-details": logged_in(200),
    "compliance:my-data": logged_in(200),
    "compliance:delete": logged_in(200),
    "compliance:exports": logged_in(200),  # lists what this person may download (maybe none)
    # every slate's report: the committee's treasurers and staff (organizers add ?slate=)
    "compliance:export-schedule-a": logged_in(403, staff=200),
}


def _walk(patterns, namespaces, route):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield ":".join([*namespaces, pattern.name]), route + str(pattern.pattern)


def pages() -> dict[str, list[str]]:
    """Every named page in ``NAMESPACES``: its name and the names of its URL arguments."""
    found = {}
    for name, route in _walk(get_resolver().url_patterns, [], ""):
        if name.split(":")[0] in NAMESPACES and name not in NOT_PAGES:
            found.setdefault(name, re.findall(r"<(?:\w+:)?(\w+)>", route))
    return found


def test_every_page_has_an_entry():
    missing = sorted(set(pages()) - set(EXPECTED))
    assert not missing, (
        f"Pages without an entry in tests/accounts/test_permissions.py EXPECTED: {missing}. "
        "Decide what each role gets and add them."
    )
    assert sorted(set(EXPECTED) - set(pages())) == [], "entries for pages that no longer exist"
    for name, answers in EXPECTED.items():
        assert set(answers) == set(ROLES), name


@pytest.fixture
def world(localstripe):
    slate = make_open_slate(candidates=3, min_signatures=3)
    other_slate = make_open_slate(candidates=1, min_signatures=1)
    supporter = UserFactory()
    pledge = pledge_services.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=2_500
    )
    partner = make_partner_organization(name="Local 7", endorse=slate)
    other_partner = make_partner_organization(name="Elsewhere League")
    people = {
        "anonymous": None,
        "supporter": supporter,
        "other_supporter": UserFactory(),
        "candidate": slate_candidates(slate)[0].user,
        "other_candidate": slate_candidates(other_slate)[0].user,
        "organizer": organizer_of(slate),
        "other_organizer": organizer_of(other_slate),
        "partner_admin": partner.admins.get(),
        "other_partner_admin": other_partner.admins.get(),
        "staff": with_totp(UserFactory(is_staff=True)),
    }
    invitation = candidate_services.invite_new_candidate(
        slate=slate, actor=people["organizer"], full_name="Not Yet Claimed", office="house",
        state="CA",
    )  # fmt: skip
    from escrow.models import LedgerTransaction
    from tests.compliance.helpers import money_pledge, record_capture

    charged = money_pledge(slate, supporter, 1_000)  # a capture, so the supporter has a receipt
    record_capture(charged, {slate_candidates(slate)[0].pk: 1_000})
    arguments = {
        "slug": slate.slug,
        "pk": pledge.pk,
        "organization_slug": partner.slug,
        "transaction_id": LedgerTransaction.objects.get(pledge=charged, kind="capture").pk,
        "candidate_id": invitation.candidate_id,
        "invitation_id": invitation.pk,
        "token": claim_token(invitation),
        "ask_id": asks.record_ask(
            slate=slate, candidate=invitation.candidate, supporter=supporter, message="Sign!"
        ).pk,
    }
    return people, arguments


def answer(response) -> object:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return response.status_code


def test_every_role_gets_the_expected_answer_from_every_page(world):
    people, arguments = world
    wrong = []
    for name, argument_names in sorted(pages().items()):
        expected = EXPECTED.get(name)
        if expected is None:
            continue  # reported by test_every_page_has_an_entry
        url = reverse(name, kwargs={key: arguments[key] for key in argument_names})
        for role in ROLES:
            client = Client()
            if people[role] is not None:
                client.force_login(people[role])
            got = answer(client.get(url))
            if got != expected[role]:
                wrong.append(f"{name} as {role}: expected {expected[role]}, got {got}")
    assert wrong == []
