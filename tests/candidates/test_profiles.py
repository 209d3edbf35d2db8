"""Public candidate pages, and the statement a candidate writes for themself."""

import pytest
from django.test import Client
from django.urls import reverse

from candidates import invitations, services
from candidates.models import Candidate
from candidates.services import CandidateError
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import (
    UserFactory,
    make_candidate,
    make_draft_slate,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


def page(candidate, user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(reverse("candidates:profile", args=[candidate.pk]))


def test_the_public_page_shows_who_they_are_where_they_stand_and_what_waits():
    slate = make_open_slate(candidates=3)
    signer, waiting = slate_candidates(slate)[:2]  # states CA and NY
    services.update_public_profile(
        candidate=waiting, actor=waiting.user, statement="I run for <everyone>.\nSecond line.",
        website="https://waiting.example.org",
    )  # fmt: skip
    sign(signer, slate)
    supporter = UserFactory()
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=supporter, slate=slate, amount_cents=5_000,
        supporter_state="NY",
    )  # fmt: skip
    pledge_services.commit_money_pledge(pledge=pledge)  # as when the card is saved
    pledge_intake.sign_on(supporter=UserFactory(), slate=slate, supporter_state="CA")

    html = page(waiting).content.decode()
    assert waiting.full_name in html
    assert waiting.initials in html
    assert "U.S. House, NY-" in html
    assert "I run for &lt;everyone&gt;." in html and "<everyone>" not in html
    assert 'href="https://waiting.example.org"' in html
    assert "has not signed yet" in html
    assert "$50" in html  # the pot waiting for them
    assert "From New York: $50, 0 volunteer hours, 1 pledge." in html

    signed = page(signer).content.decode()
    assert "<strong>Signed</strong> the coordination agreement (version 1)" in signed
    assert "Universal health care: committed" in signed
    assert "From California: $0, 0 volunteer hours, 1 pledge." in signed


def test_the_slate_page_links_each_candidate_to_their_page():
    slate = make_open_slate(candidates=2, min_signatures=2)
    html = Client().get(slate.get_absolute_url()).content.decode()
    for candidate in slate_candidates(slate):
        assert f'href="{candidate.get_absolute_url()}"' in html


def test_a_candidate_only_on_a_draft_is_not_public():
    draft = make_draft_slate()
    organizer = organizer_of(draft)
    candidate = make_candidate(organizer=organizer)
    invitations.invite_candidate(slate=draft, candidate=candidate, actor=organizer)
    assert page(candidate).status_code == 404
    assert page(candidate, UserFactory()).status_code == 404
    assert page(candidate, organizer).status_code == 200
    assert page(candidate, candidate.user).status_code == 200


def test_only_the_candidate_writes_their_statement():
    slate = make_open_slate(candidates=2, min_signatures=2)
    candidate, other = slate_candidates(slate)
    for actor in (other.user, organizer_of(slate), UserFactory(is_staff=True)):
        with pytest.raises(CandidateError) as excinfo:
            services.update_public_profile(candidate=candidate, actor=actor, statement="Hijack")
        assert excinfo.value.code == "forbidden"
    assert Candidate.objects.get(pk=candidate.pk).statement == ""


@pytest.mark.parametrize(
    ("statement", "website", "field"),
    [("x" * 2_001, "", "statement"), ("nul\x00", "", "statement"), ("ok", "not a url", "website")],
)
def test_a_bad_statement_is_refused_and_nothing_changes(statement, website, field):
    slate = make_open_slate(candidates=1, min_signatures=1)
    candidate = slate_candidates(slate)[0]
    with pytest.raises(CandidateError) as excinfo:
        services.update_public_profile(
            candidate=candidate, actor=candidate.user, statement=statement, website=website
        )
    assert excinfo.value.field == field
    assert Candidate.objects.get(pk=candidate.pk).statement == ""


def test_the_edit_page_saves_the_statement_and_shows_a_too_long_one_as_a_form_error():
    slate = make_open_slate(candidates=1, min_signatures=1)
    candidate = slate_candidates(slate)[0]
    client = Client()
    client.force_login(candidate.user)
    url = reverse("candidates:edit-profile")
    too_long = client.post(url, {"statement": "x" * 2_001, "website": ""})
    assert too_long.status_code == 400
    assert b"at most 2000 characters" in too_long.content
    saved = client.post(url, {"statement": "Coordination wins.", "website": ""})
    assert saved.status_code == 302
    assert saved["Location"] == candidate.get_absolute_url()
    assert Candidate.objects.get(pk=candidate.pk).statement == "Coordination wins."
