"""Every page × every role → the expected answer.

The list of pages comes from the URL resolver: a page added to one of the namespaces below
without an entry in ``EXPECTED`` fails ``test_every_page_has_an_entry``, so nobody ships a
page whose permissions were never decided. Pages are fetched with GET as each role. A
POST-only page (``POSTS``) is sent a valid body instead, as each role, each time on the
same world (the request's writes are rolled back after it), and its row is the answer to
that POST; ``POSTS`` also says for which roles the action must really happen (and for no other
role may it). A page that answers a GET with 405 and has no entry in ``POSTS`` fails.

Answers: an HTTP status, or ``LOGIN`` (a redirect to the login page).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from candidates import agreements as candidate_agreements
from candidates import asks
from candidates import invitations as candidate_invitations
from candidates.claim_links import claim_token
from candidates.models import Candidate
from pledges import intake as pledge_intake
from pledges.declarations import ATTESTED
from pledges.models import PartnerShare, Pledge
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
    "slate:referral": everyone(302),  # remembers the organization, shows its slate page
    "slate:referral-code": everyone(302),  # the same, with a sub-code (unknown ones ignored)
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
    # POST only: lets the organization that brought one's pledge know one pledged
    "pledges:partner-sharing": logged_in(302),
    "pledges:detail": owner_only(200),
    "escrow:card": owner_only(200),
    # POST only: the owner (whose pledge has no card set up yet) is sent to set one up
    "escrow:card-confirm": owner_only(302),
    "escrow:cancel": owner_only(200),
    # nothing needs the supporter: the owner is sent back to their pledges
    "escrow:complete-payment": owner_only(302),
    # --- candidates ---
    "candidates:home": candidates_only(),
    "escrow:candidate-payouts": candidates_only(),
    # a candidate of another slate is not invited to this one: not theirs to sign (404)
    "candidates:sign": candidates_only(other_candidate=404),
    "candidates:withdraw": candidates_only(other_candidate=404),
    "candidates:decline": candidates_only(other_candidate=404),
    "candidates:edit-profile": candidates_only(),  # their own statement, nobody else's
    "candidates:digest": candidates_only(302),  # POST only: the candidate's own digest
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
    # POST only: the volunteer's own match, pledge and sign-up; anyone may try a shift (only a
    # volunteer who pledged hours to its slate gets a place, see POSTS)
    "volunteers:change-match": owner_only(302),
    "volunteers:consent": owner_only(302),
    "volunteers:sign-up": logged_in(302),
    "volunteers:cancel-signup": owner_only(302),
    # a campaign's emailed invitation to its staff: no login needed (the person may have no
    # account yet); the claim token in ``token`` is not one, and the page says so
    "volunteers:staff-join": everyone(400),
    # campaigns' people (candidates, their staff) only
    "volunteer_hosts:campaign": candidates_only(),
    # what a signer shares in the signers' rooms and their staff (staff see the rooms' list)
    "volunteer_hosts:room-settings": candidates_only(),
    # the signers' room: signers and their staff only (tests/volunteers/test_room.py); this
    # slate has no signer yet, so nobody enters, and nobody is told it exists
    "volunteer_hosts:room": logged_in(404),
    # organizers, and an endorsing partner's admins; candidates once they have signed
    "volunteer_hosts:events": {**organizers_only(), "partner_admin": 200},
    # an event hosted by the partner organization: its admins, the organizers and staff
    "volunteer_hosts:event": {**organizers_only(), "partner_admin": 200},
    "volunteer_hosts:attendance": {**organizers_only(302), "partner_admin": 302},  # POST only
    "volunteer_hosts:summary": organizers_only(),
    "volunteer_hosts:summary-csv": organizers_only(),
    # anyone may start a slate (and becomes its organizer), with two-factor: those without it
    # are sent to set it up
    "organize:new": logged_in(200, supporter=302, other_supporter=302),
    # an organizer's invitation link (``token`` is not one: the page says so), two-factor first
    "organize:join": logged_in(400, supporter=302, other_supporter=302),
    # staff's review queue of new organizers' first slates
    "organize:review-queue": logged_in(403, staff=200),
    "organize:review": logged_in(403, staff=200),
    "organize:review-approve": logged_in(403, staff=302),  # POST only: staff publish it
    # co-organizers: invite by email, withdraw an invitation, remove
    "organize:organizers": organizers_only(),
    "organize:organizer-invitation-cancel": organizers_only(302),  # POST only
    "organize:organizer-remove": organizers_only(302),  # POST only: removes a co-organizer
    # the wizard's steps edit drafts; this slate is open, so its organizers go to the dashboard
    "organize:basics": organizers_only(302),
    "organize:planks": organizers_only(302),
    "organize:rule": organizers_only(302),
    "organize:agreement": organizers_only(302),
    "organize:preview": organizers_only(302),
    "organize:publish": organizers_only(302),  # POST only: publishes the organizer's draft
    "organize:candidates": organizers_only(),
    "organize:candidate-verify": organizers_only(302),  # POST only
    "organize:invitation-revoke": organizers_only(302),
    "organize:invitation-email": organizers_only(302),
    "organize:deadline": organizers_only(),
    "organize:revise-planks": organizers_only(),
    "organize:asks": organizers_only(),
    "organize:ask-hide": organizers_only(302),  # POST only
    # the vote record: this slate is open, so its organizers are told it waits for the lock
    "organize:votes": organizers_only(),
    "organize:updates": organizers_only(),  # the composer and the sent updates
    # --- candidates claiming an invitation (anyone logged in may open the link) ---
    "candidates:claim": logged_in(200),
    # --- partner organizations ---
    # public: verified organizations, the link to register one, and (signed in) your own
    "orgs:index": everyone(200),
    "orgs:new": logged_in(200),
    "orgs:detail": everyone(200),  # the public organization page
    "orgs:dashboard": logged_in(403, partner_admin=200, staff=200),
    "orgs:endorse": logged_in(403, partner_admin=200, staff=200),
    "orgs:withdraw": logged_in(403, partner_admin=200, staff=200),  # GET asks to confirm
    # who its links brought and agreed to let it know they pledged (a CSV)
    "orgs:pledged-csv": logged_in(403, partner_admin=200, staff=200),
    "orgs:codes": logged_in(403, partner_admin=200, staff=200),  # sub-codes per chapter etc.
    "orgs:export-figures": logged_in(403, partner_admin=200, staff=200),  # aggregates only
    "orgs:logo": logged_in(403, partner_admin=200, staff=200),
    "orgs:logo-png": everyone(404),  # public, once the organization has uploaded one
    # public: the organization's own page for a slate it endorses (its links land here)
    "orgs:slate": everyone(200),
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
    assert sorted(set(POSTS) - set(EXPECTED)) == [], "POSTS entries for pages that do not exist"


@pytest.fixture
def world(localstripe):
    slate = make_open_slate(candidates=3, min_signatures=3)
    other_slate = make_open_slate(candidates=1, min_signatures=1)
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
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
    invitation = candidate_invitations.invite_new_candidate(
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
        "code": "no-such-code",
        "transaction_id": LedgerTransaction.objects.get(pledge=charged, kind="capture").pk,
        "candidate_id": invitation.candidate_id,
        "invitation_id": invitation.pk,
        "token": claim_token(invitation),
        "ask_id": asks.record_ask(
            slate=slate, candidate=invitation.candidate, supporter=supporter, message="Sign!"
        ).pk,
    }
    arguments["for_page"] = _post_world(people, slate, partner, invitation, arguments)
    return people, arguments


def _post_world(people, slate, partner, invitation, arguments) -> dict[str, dict]:
    """What the POST-only pages act on, made through the services: per page, its URL
    arguments (where they differ from the GET pages') and the objects its check reads."""
    from candidates.models import Ask
    from slate import lifecycle as slate_lifecycle
    from slate import organizers as slate_organizers
    from slate import partners as slate_partners
    from tests.factories import make_candidate, make_draft_slate, sign
    from tests.volunteers.helpers import CALL_LINK, pledge_hours
    from volunteers import services as volunteer_services
    from volunteers import shifts
    from volunteers.models import Shift, VolunteerMatch

    organizer, supporter = people["organizer"], people["supporter"]
    # The partner's link brought the supporter's pledge (pledges:partner-sharing); set on the
    # row, not through a new pledge, which would change what other pages show the supporter.
    Pledge.objects.filter(pk=arguments["pk"]).update(referred_by=partner)
    # A draft of this organizer's, ready to publish.
    draft = make_draft_slate(organizer=organizer, min_signatures=1)
    candidate_invitations.invite_candidate(
        slate=draft, candidate=make_candidate(organizer=organizer), actor=organizer
    )
    candidate_agreements.save_agreement_draft(slate=draft, actor=organizer, text="Together.")
    # A candidate who claimed their profile on this slate and waits for verification.
    waiting = make_candidate(organizer=organizer)
    candidate_invitations.invite_candidate(slate=slate, candidate=waiting, actor=organizer)
    # A locked slate, organized by this slate's organizer too and endorsed by the partner,
    # where the supporter volunteered and was matched; an event the partner hosts there, with
    # a shift the supporter signed up for, one under way, and one still open.
    volunteering = make_open_slate(candidates=2, min_signatures=2)
    slate_organizers.add_organizer(
        slate=volunteering, user=organizer, actor=organizer_of(volunteering)
    )
    slate_partners.endorse_slate(
        organization=partner, slate=volunteering, actor=people["partner_admin"]
    )
    hours = pledge_hours(volunteering, supporter=supporter)
    campaigns = slate_candidates(volunteering)
    for candidate in campaigns:
        sign(candidate, volunteering)
    slate_lifecycle.evaluate_threshold(slate_id=volunteering.pk)  # the lock, run on commit
    volunteer_services.match_slate_volunteers(slate_id=volunteering.pk)
    match = VolunteerMatch.objects.get(pledge=hours)
    event = shifts.create_event(
        slate=volunteering, actor=people["partner_admin"], title="Phone bank",
        organization=partner,
    )  # fmt: skip
    start = timezone.now() + timedelta(days=3)

    def shift():
        return shifts.add_shift(
            event=event, actor=people["partner_admin"], starts_at=start,
            ends_at=start + timedelta(hours=2), activity="phone_banking", mode="remote",
            capacity=10, call_link=CALL_LINK, location="", zip_code="",
        )  # fmt: skip

    to_cancel = shifts.sign_up(shift=shift(), volunteer=supporter)
    to_mark = shifts.sign_up(shift=shift(), volunteer=supporter)
    Shift.objects.filter(pk=to_mark.shift_id).update(  # time passes: the shift has begun
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=1)
    )
    open_shift = shift()
    other_campaign = next(c for c in campaigns if c.pk != match.candidate_id)
    # A new organizer's first slate, waiting in staff's review queue.
    newcomer = with_totp(UserFactory())
    in_review = make_draft_slate(organizer=newcomer, min_signatures=1)
    candidate_invitations.invite_candidate(
        slate=in_review, candidate=make_candidate(organizer=newcomer), actor=newcomer
    )
    candidate_agreements.save_agreement_draft(slate=in_review, actor=newcomer, text="Together.")
    candidate_agreements.publish_slate(slate=in_review, actor=newcomer)
    # A co-organizer of this slate, and an invitation to organize it not yet accepted.
    co_organizer = with_totp(UserFactory())
    slate_organizers.add_organizer(slate=slate, user=co_organizer, actor=organizer)
    organizer_invitation = slate_organizers.invite_organizer(
        slate=slate, email="joining@example.org", actor=organizer
    )
    return {
        "organize:review-approve": {"slug": in_review.slug, "slate": in_review},
        "organize:organizer-invitation-cancel": {
            "invitation_id": organizer_invitation.pk,
            "invitation": organizer_invitation,
        },
        "organize:organizer-remove": {"user_id": co_organizer.pk, "co": co_organizer},
        "organize:publish": {"slug": draft.slug, "draft": draft},
        "organize:candidate-verify": {"candidate_id": waiting.pk, "candidate": waiting},
        "organize:invitation-revoke": {"invitation": invitation},
        "organize:invitation-email": {"invitation": invitation},
        "organize:ask-hide": {"ask": Ask.objects.get(pk=arguments["ask_id"])},
        "volunteers:change-match": {"pk": match.pk, "match": match, "to": other_campaign},
        "volunteers:consent": {"pk": hours.pk, "pledge": hours},
        "volunteers:sign-up": {"pk": open_shift.pk, "shift": open_shift},
        "volunteers:cancel-signup": {"pk": to_cancel.pk, "signup": to_cancel},
        "volunteer_hosts:attendance": {"pk": to_mark.pk, "signup": to_mark},
        "volunteer_hosts:event": {"pk": event.pk},
        "pledges:partner-sharing": {"organization": partner},
    }


@dataclass(frozen=True)
class Post:
    """A valid body for a POST-only page, the roles for whom it must take effect, and how to
    tell it did (``done(people, things, role)``, read before the request is rolled back)."""

    body: dict
    doers: frozenset[str] = frozenset()
    done: Callable[[dict, dict, str], bool] | None = None
    expect: dict = field(default_factory=dict)


def _refreshed(obj):
    obj.refresh_from_db()
    return obj


ORGANIZERS = frozenset({"organizer", "staff"})
POSTS: dict[str, Post] = {
    # the owner's pledge has no card set up yet: they are sent to set one up, nothing happens
    "escrow:card-confirm": Post({}),
    "candidates:digest": Post(
        {"paused": "1"},
        frozenset({"candidate", "other_candidate"}),
        lambda people, _, role: Candidate.objects.filter(
            user=people[role], digest_paused=True
        ).exists(),
    ),
    "volunteers:change-match": Post(
        {"candidate": "{to}", "mode": "remote"},
        frozenset({"supporter"}),
        lambda _, t, __: _refreshed(t["match"]).candidate_id == t["to"].pk,
    ),
    "volunteers:consent": Post(
        {"share_contact": "on"},
        frozenset({"supporter"}),
        lambda _, t, __: _refreshed(t["pledge"]).volunteer_details.share_contact,
    ),
    "volunteers:sign-up": Post(
        {},
        frozenset({"supporter"}),  # the only one who pledged hours to that slate
        lambda people, t, role: (
            people[role] is not None and t["shift"].signups.filter(volunteer=people[role]).exists()
        ),
    ),
    "volunteers:cancel-signup": Post(
        {}, frozenset({"supporter"}), lambda _, t, __: _refreshed(t["signup"]).status == "cancelled"
    ),
    "volunteer_hosts:attendance": Post(
        {"attended": "yes", "delivered_hours": "1.5"},
        frozenset({"organizer", "staff", "partner_admin"}),
        lambda _, t, __: _refreshed(t["signup"]).delivered_minutes == 90,
    ),
    "organize:publish": Post(
        {}, ORGANIZERS, lambda _, t, __: _refreshed(t["draft"]).state == "open"
    ),
    "organize:candidate-verify": Post(
        {}, ORGANIZERS, lambda _, t, __: _refreshed(t["candidate"]).verified_at is not None
    ),
    "organize:invitation-revoke": Post(
        {}, ORGANIZERS, lambda _, t, __: _refreshed(t["invitation"]).status == "revoked"
    ),
    "organize:invitation-email": Post(
        {"email": "campaign@example.org"},
        ORGANIZERS,
        lambda *_: any(m.to == ["campaign@example.org"] for m in mail.outbox),
    ),
    "organize:ask-hide": Post(
        {}, ORGANIZERS, lambda _, t, __: _refreshed(t["ask"]).hidden_at is not None
    ),
    # only the supporter, whose sign-on the partner's link brought
    "pledges:partner-sharing": Post(
        {"share": "1"},
        frozenset({"supporter"}),
        lambda people, t, role: (
            people[role] is not None
            and PartnerShare.objects.filter(
                supporter=people[role], organization=t["organization"]
            ).exists()
        ),
    ),
    "organize:review-approve": Post(
        {}, frozenset({"staff"}), lambda _, t, __: _refreshed(t["slate"]).state == "open"
    ),
    "organize:organizer-invitation-cancel": Post(
        {},
        ORGANIZERS,
        lambda _, t, __: not type(t["invitation"]).objects.filter(pk=t["invitation"].pk).exists(),
    ),
    "organize:organizer-remove": Post(
        {}, ORGANIZERS, lambda _, t, __: not t["co"].organized_slates.exists()
    ),
}


class _RollBack(Exception):
    pass


def answer(response) -> object:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return response.status_code


def test_every_role_gets_the_expected_answer_from_every_page(
    world, django_capture_on_commit_callbacks
):
    people, arguments = world
    wrong = []
    for name, argument_names in sorted(pages().items()):
        expected = EXPECTED.get(name)
        if expected is None:
            continue  # reported by test_every_page_has_an_entry
        things = arguments["for_page"].get(name, {})
        values = {**arguments, **things}
        url = reverse(name, kwargs={key: values[key] for key in argument_names})
        post = POSTS.get(name)
        for role in ROLES:
            client = Client()
            if people[role] is not None:
                client.force_login(people[role])
            if post is None:
                got = answer(client.get(url))
                if got == 405:
                    wrong.append(f"{name} answers GET with 405: give it an entry in POSTS")
                    break
            else:
                if role != "anonymous" and client.get(url).status_code != 405:
                    wrong.append(f"{name} is in POSTS but answers GET as {role}")
                body = {
                    key: str(things[value[1:-1]].pk) if value[:1] == "{" else value
                    for key, value in post.body.items()
                }
                mail.outbox.clear()
                try:
                    with transaction.atomic():
                        with django_capture_on_commit_callbacks(execute=True):
                            got = answer(client.post(url, body))
                        done = post.done(people, things, role) if post.done else False
                        raise _RollBack
                except _RollBack:
                    pass
                if done != (role in post.doers):
                    wrong.append(
                        f"POST {name} as {role}: "
                        + ("took effect" if done else "did not take effect")
                    )
            if got != expected[role]:
                wrong.append(f"{name} as {role}: expected {expected[role]}, got {got}")
    assert wrong == []
