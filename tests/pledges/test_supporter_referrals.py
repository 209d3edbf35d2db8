"""Supporters bringing supporters: share codes, who brought whom, "you brought N and $X"."""

import pytest
from django.test import Client

from pledges import intake, referrals, selectors, services
from pledges.declarations import ATTESTED
from pledges.models import Referral
from tests.escrow.cards import pledge_with_card
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db


@pytest.fixture
def slate():
    return make_open_slate(candidates=3, min_signatures=3)


def follow(client, slate, code):
    return client.get(f"{slate.get_absolute_url()}?ref={code}")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_share_link_credits_its_owner_once_per_person(slate):
    ann, ben = UserFactory(), UserFactory()
    code = referrals.code_for(ann)
    assert referrals.code_for(ann) == code  # stable
    client = signed_in(ben)
    assert follow(client, slate, code).status_code == 200
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    client.post(  # a second pledge by the same person is not a second person
        f"/slates/{slate.slug}/volunteer/",
        {"hours": "3", "activities": ["canvassing"], "zip_code": "94110", "idempotency_key": "k"},
    )
    assert Referral.objects.get().referrer == ann
    assert selectors.brought_by(ann).people == 1


def test_the_thank_you_page_carries_the_personal_link(slate):
    ben = UserFactory()
    client = signed_in(ben)
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    page = client.get(f"/slates/{slate.slug}/thanks/").content.decode()
    assert f"{slate.get_absolute_url()}?ref={referrals.code_for(ben)}" in page
    for network in ("mailto:", "twitter.com", "facebook.com", "bsky.app", "wa.me", "sms:"):
        assert network in page


@pytest.mark.parametrize("code", ["nobodys-code", "a b", "x" * 10_000, "", "\x00abc"])
def test_a_code_that_is_no_ones_is_ignored_never_an_error(slate, code):
    ben = UserFactory()
    client = signed_in(ben)
    assert client.get(slate.get_absolute_url(), {"ref": code}).status_code == 200
    response = client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    assert response.status_code == 302
    assert not Referral.objects.exists()


def test_ones_own_link_credits_nobody(slate):
    ann = UserFactory()
    client = signed_in(ann)
    follow(client, slate, referrals.code_for(ann))
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    assert not Referral.objects.exists()
    assert selectors.brought_by(ann).people == 0


def test_a_chain_credits_each_link_to_its_own_referrer_and_the_first_link_wins(slate):
    ann, ben, cat = UserFactory(), UserFactory(), UserFactory()
    referrals.attribute(slate=slate, supporter=ben, code=referrals.code_for(ann))
    referrals.attribute(slate=slate, supporter=cat, code=referrals.code_for(ben))
    referrals.attribute(slate=slate, supporter=cat, code=referrals.code_for(ann))  # later link
    assert selectors.brought_by(ann).people == 1  # Ben, not Cat through Ben
    assert selectors.brought_by(ben).people == 1
    assert Referral.objects.get(supporter=cat).referrer == ben


def test_brought_money_counts_standing_pledges_only(slate, localstripe):
    ann, ben = UserFactory(), UserFactory()
    referrals.attribute(slate=slate, supporter=ben, code=referrals.code_for(ann))
    pledge_with_card(slate, supporter=ben, amount_cents=5_000)  # committed: stands
    cancelled = pledge_with_card(slate, supporter=ben, amount_cents=2_000)
    services.cancel_pledge(pledge=cancelled, actor=ben)
    intake.create_money_pledge(  # no card saved yet: not money brought
        attestations=ATTESTED, supporter=ben, slate=slate, amount_cents=7_000
    )
    brought = selectors.brought_by(ann)
    assert (brought.people, brought.money_cents) == (1, 5_000)
    page = signed_in(ann).get("/pledges/").content.decode()
    assert "You brought 1 person and $50" in page


def test_the_next_step_offers_only_what_the_supporter_has_not_given(slate):
    ben = UserFactory()
    client = signed_in(ben)
    client.post(f"/slates/{slate.slug}/sign-on/", {"supporter_state": "OH"})
    page = client.get(f"/slates/{slate.slug}/thanks/").content.decode()
    assert "Pledge money, charged only if they sign" in page and "Pledge volunteer hours" in page
    client.post(
        f"/slates/{slate.slug}/volunteer/",
        {"hours": "3", "activities": ["canvassing"], "zip_code": "94110", "idempotency_key": "k"},
    )
    page = client.get(f"/slates/{slate.slug}/thanks/").content.decode()
    assert "Pledge money, charged only if they sign" in page
    assert "Pledge volunteer hours" not in page
