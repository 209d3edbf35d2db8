"""The directory of slates and the wins: open first, then the coordinated, then the expired;
a released slate keeps its results."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from slate.models import Slate
from slate.states import SlateState
from tests.compliance.helpers import money_pledge, record_capture
from tests.factories import UserFactory, make_open_slate, slate_candidates

pytestmark = pytest.mark.django_db


def named(name, **changes) -> Slate:
    slate = make_open_slate(candidates=2, min_signatures=2)
    Slate.objects.filter(pk=slate.pk).update(name=name, **changes)
    slate.refresh_from_db()
    return slate


def titles(response) -> list[str]:
    return [p.slate.name for p in response.context["progress_list"]]


@pytest.fixture
def slates():
    now = timezone.now()
    return {
        "open": named("Open one"),
        "released": named("Released one", state=SlateState.RELEASED, locked_at=now),
        "older win": named("Older win", state=SlateState.LOCKED, locked_at=now - timedelta(days=9)),
        "expired": named("Expired one", state=SlateState.EXPIRED),
        "draft": named("Draft one", state=SlateState.DRAFT),
    }


def test_the_directory_lists_open_then_wins_newest_first_then_expired(slates):
    response = Client().get("/slates/")
    assert response.status_code == 200
    assert titles(response) == ["Open one", "Released one", "Older win", "Expired one"]


def test_the_home_page_keeps_the_wins_after_the_open_slates(slates):
    page = Client().get("/").content.decode()
    assert page.index("Open one") < page.index("Candidates who coordinated")
    wins = page[page.index("Candidates who coordinated") :]
    assert "Released one" in wins and "Older win" in wins and "Expired one" not in wins
    assert "Draft one" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "released"}, ["Released one"]),
        ({"status": "expired"}, ["Expired one"]),
        ({"status": "locked"}, ["Older win"]),
    ],
)
def test_the_directory_filters_by_status(slates, query, expected):
    assert titles(Client().get("/slates/", query)) == expected


def test_the_directory_filters_by_a_candidates_state_and_office(slates):
    slate = slates["open"]
    candidate = slate_candidates(slate)[0]
    type(candidate).objects.filter(pk=candidate.pk).update(state="VT", office="senate")
    assert titles(Client().get("/slates/", {"state": "VT"})) == ["Open one"]
    assert titles(Client().get("/slates/", {"state": "VT", "office": "governor"})) == []
    assert titles(Client().get("/slates/", {"office": "senate"})) == ["Open one"]


@pytest.mark.parametrize(
    "query",
    [{"status": "won"}, {"state": "ZZ"}, {"office": "king"}, {"page": "abc"}, {"state": "\x00"}],
)
def test_bad_filters_are_a_clear_error_never_a_500(slates, query):
    response = Client().get("/slates/", query)
    assert response.status_code in (200, 400)
    if "page" not in query:
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()


def test_a_released_slate_keeps_its_results(slates):
    slate = make_open_slate(candidates=2, min_signatures=2)
    first, second = slate_candidates(slate)
    record_capture(money_pledge(slate, UserFactory(), 3_000), {first.pk: 2_000, second.pk: 1_000})
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.RELEASED, locked_at=timezone.now())
    page = Client().get(slate.get_absolute_url()).content.decode()
    results = page[page.index('data-testid="results"') :]
    results = results[: results.index("</section>")]
    assert first.full_name in results and "$20" in results and "$10" in results
    assert "$30" in results  # in all


def test_an_expired_slate_says_nobody_was_charged(slates):
    page = Client().get(slates["expired"].get_absolute_url()).content.decode()
    assert "nobody was charged" in page


@pytest.mark.parametrize(
    ("state", "says", "polls"),
    [
        ("open", "waiting\n    from", True),
        ("locked", "going to the signers now", True),
        ("released", "released to the signers", False),
        ("expired", "no card was charged", False),
    ],
)
def test_the_progress_says_what_became_of_the_pledges_and_stops_polling_when_done(
    slates, state, says, polls
):
    slate = slates["open"]
    Slate.objects.filter(pk=slate.pk).update(state=state)
    fragment = Client().get(f"/slates/{slate.slug}/progress/").content.decode()
    assert says in fragment
    assert bool(re.search(r"hours\s+waiting", fragment)) == (state == "open")
    assert ('hx-trigger="every 5s"' in fragment) == polls
