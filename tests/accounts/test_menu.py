"""The page header's role links (accounts.context_processors.menu): read in one query, fresh
on every page, so a role given a moment ago shows on the next page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slate.models import SlateOrganizer
from tests.factories import UserFactory, make_candidate, make_open_slate, organizer_of

pytestmark = pytest.mark.django_db

ORGANIZE_LINK = 'href="/organize/"'
CANDIDATE_LINK = 'href="/candidate/"'


def header(client) -> str:
    return client.get("/pledges/").content.decode().split("</header>")[0]


def test_each_role_shows_its_own_link_from_the_next_page_on(client):
    slate = make_open_slate(candidates=1, min_signatures=1)
    person = UserFactory()
    client.force_login(person)
    assert ORGANIZE_LINK not in header(client)
    assert CANDIDATE_LINK not in header(client)

    SlateOrganizer.objects.create(slate=slate, user=person)
    assert ORGANIZE_LINK in header(client)
    assert CANDIDATE_LINK not in header(client)

    candidate = make_candidate(organizer=organizer_of(slate))
    client.force_login(candidate.user)
    assert CANDIDATE_LINK in header(client)
    assert ORGANIZE_LINK not in header(client)


def test_the_header_reads_both_roles_in_one_query(client):
    client.force_login(UserFactory())
    client.get("/pledges/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/pledges/")
    role_reads = [
        q["sql"]
        for q in captured.captured_queries
        if "slate_slateorganizer" in q["sql"] or "candidates_candidate" in q["sql"]
    ]
    assert len(role_reads) == 1, role_reads
