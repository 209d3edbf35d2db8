"""The organizer's dashboard, its live fragment and the CSV exports."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from tests.factories import UserFactory, make_staff, sign, slate_candidates

pytestmark = pytest.mark.django_db


def organizer_urls(slate):
    return [
        reverse("organize:dashboard", args=[slate.slug]),
        reverse("organize:live", args=[slate.slug]),
        reverse("organize:export-pledges", args=[slate.slug]),
        reverse("organize:export-volunteers", args=[slate.slug]),
    ]


def money_pledge(slate, cents, *, state="CA", supporter=None, referred_by=None):
    pledge = pledge_intake.create_money_pledge(attestations=ATTESTED,
        supporter=supporter or UserFactory(), slate=slate, amount_cents=cents,
        supporter_state=state, referred_by=referred_by,
    )  # fmt: skip
    return pledge_services.commit_money_pledge(pledge=pledge)


def needs_action_pledge(slate, cents=2_000):
    pledge = money_pledge(slate, cents)
    return pledge_services.transition_pledge(
        pledge=pledge, to_state="needs_action", reason="card declined (test)"
    )


def test_anonymous_visitors_are_sent_to_log_in(client, slate):
    for url in [reverse("organize:index"), *organizer_urls(slate)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_supporters_and_other_slates_organizers_get_403(client, slate, stranger, other_organizer):
    for user in (stranger, other_organizer, slate_candidates(slate)[0].user):
        client.force_login(user)
        for url in organizer_urls(slate):
            assert client.get(url).status_code == 403, (user, url)


def test_staff_see_any_slates_dashboard(client, slate):
    client.force_login(make_staff())
    for url in organizer_urls(slate):
        assert client.get(url).status_code == 200, url


def test_unknown_slate_is_404_and_writes_are_refused(client, organizer, slate):
    client.force_login(organizer)
    assert client.get(reverse("organize:dashboard", args=["no-such-slate"])).status_code == 404
    assert client.post(reverse("organize:dashboard", args=[slate.slug])).status_code == 405


def test_index_lists_only_the_users_slates(client, organizer, slate, other_organizer):
    client.force_login(organizer)
    page = client.get(reverse("organize:index")).content.decode()
    assert slate.name in page
    other = other_organizer.organized_slates.get()
    assert other.name not in page


def test_dashboard_shows_totals_signatures_missing_and_needs_action(client, organizer, slate):
    first, second, *_ = slate_candidates(slate)
    sign(first, slate)
    money_pledge(slate, 12_550, state="NY")
    needs_action_pledge(slate, 2_000)
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=12, activities=["canvassing"],
        zip_code="73301", supporter_state="TX",
    )  # fmt: skip
    client.force_login(organizer)
    response = client.get(reverse("organize:dashboard", args=[slate.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="money-committed">$145.50<' in page
    assert 'data-testid="hours">12<' in page
    assert 'data-testid="signed">1<' in page
    assert 'data-testid="needs-action-count">1<' in page
    missing = response.context["board"].missing
    assert second in [standing.candidate for standing in missing]
    assert first not in [standing.candidate for standing in missing]
    assert "growth-data" in page and "chart.umd.min.js" in page
    states = dict(response.context["board"].states)
    assert states["NY"].money_cents == 12_550


def test_live_fragment_follows_a_new_pledge(client, organizer, slate):
    client.force_login(organizer)
    url = reverse("organize:live", args=[slate.slug])
    assert 'data-testid="money-committed">$0<' in client.get(url).content.decode()
    money_pledge(slate, 5_000)
    assert 'data-testid="money-committed">$50<' in client.get(url).content.decode()


def _pledge_queries(queries):
    return [q["sql"] for q in queries if '"pledges_pledge"' in q["sql"]]


# What organizing.dashboard.organizer_dashboard reads (bench/organizer_dashboard.py prints
# the same count at 100 to 100,000 pledges), one more once NEEDS_ACTION_SHOWN or more pledges
# need action (they are then also counted); and what a request adds around it: the user, the
# role checks, the two-factor check, the slate and its organizer check (the session comes from
# the cache; the full page also reads the header's roles, in one query, and the candidates'
# names for the chart). Each of the board's reads is made once: the candidates' standings
# (agreement version, signatures, invitations) and the counters were read twice (18).
BOARD_QUERIES = 13
FRAGMENT_QUERIES = BOARD_QUERIES + 8
PAGE_QUERIES = BOARD_QUERIES + 9


def _queries(read) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        read()
    return captured.captured_queries


def test_dashboard_and_fragment_cost_a_fixed_number_of_queries_at_any_size(
    client, organizer, slate
):
    """Absolute counts, at two sizes: the figures come from counter and breakdown shards; the
    only pledge queries are the indexed ones for pledges in needs_action."""
    from organizing.dashboard import organizer_dashboard
    from pledges.selectors import NEEDS_ACTION_SHOWN

    client.force_login(organizer)
    page = reverse("organize:dashboard", args=[slate.slug])
    fragment = reverse("organize:live", args=[slate.slug])
    for index in range(3):
        money_pledge(slate, 1_000 + index, state="CA")
    needs_action_pledge(slate)
    client.get(page)  # warm: session, user
    slate.refresh_from_db()
    assert len(_queries(lambda: organizer_dashboard(slate))) == BOARD_QUERIES
    assert len(_queries(lambda: client.get(fragment))) == FRAGMENT_QUERIES
    assert len(_queries(lambda: client.get(page))) == PAGE_QUERIES

    for index in range(30):
        money_pledge(slate, 1_000 + index, state=["CA", "NY", "TX"][index % 3])
    for _ in range(NEEDS_ACTION_SHOWN):
        needs_action_pledge(slate)
    slate.refresh_from_db()
    board = organizer_dashboard(slate)
    assert board.needs_action.count == NEEDS_ACTION_SHOWN + 1
    assert board.progress.counts.money_pledge_count == 33 + NEEDS_ACTION_SHOWN + 1
    assert len(_queries(lambda: organizer_dashboard(slate))) == BOARD_QUERIES + 1
    assert len(_queries(lambda: client.get(fragment))) == FRAGMENT_QUERIES + 1
    queries = _queries(lambda: client.get(page))
    assert len(queries) == PAGE_QUERIES + 1
    pledge_queries = _pledge_queries(queries)
    assert len(pledge_queries) == 2, "the needs_action list and its count read pledges"
    for sql in pledge_queries:
        assert "'needs_action'" in sql and '"slate_id"' in sql, sql


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_pledge_csv_has_every_pledge_with_donor_details(client, organizer, slate):
    donor = UserFactory(first_name="Ada", last_name="Lovelace")
    money_pledge(slate, 12_550, supporter=donor, state="NY")
    pledge_intake.sign_on(supporter=UserFactory(), slate=slate, supporter_state="OH")
    client.force_login(organizer)
    response = client.get(reverse("organize:export-pledges", args=[slate.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == Pledge.objects.filter(slate=slate).count() == 2
    money = next(row for row in rows if row["kind"] == "money")
    assert money["amount_usd"] == "125.50"
    assert money["supporter_name"] == "Ada Lovelace"
    assert money["supporter_email"] == donor.email
    assert money["supporter_state"] == "NY"
    assert money["donor_employer"] == ""  # no donor details given
    # The download of donors' details is in the audit log, with who and which slate.
    from compliance.models import DonorDataAccess

    [logged] = DonorDataAccess.objects.all()
    assert (logged.actor, logged.what, logged.slate) == (organizer, "pledges_csv", slate)
    client.get(reverse("organize:export-volunteers", args=[slate.slug]))
    assert DonorDataAccess.objects.latest("pk").what == "volunteers_csv"


def test_pledge_csv_carries_the_compliance_donor_details(client, organizer, slate):
    from compliance.models import Donor

    donor = UserFactory()
    Donor.objects.create(
        user=donor, first_name="Ada", last_name="Lovelace", street_1="12 Analytical Way",
        city="Ann Arbor", state="MI", zip_code="48104", employer="Engine Works",
        occupation="Mathematician", email=donor.email,
    )  # fmt: skip
    money_pledge(slate, 2_500, supporter=donor, state="MI")
    client.force_login(organizer)
    [row] = read_csv(client.get(reverse("organize:export-pledges", args=[slate.slug])))
    assert (row["donor_street_1"], row["donor_city"], row["donor_zip_code"]) == (
        "12 Analytical Way", "Ann Arbor", "48104",
    )  # fmt: skip
    assert (row["donor_employer"], row["donor_occupation"]) == ("Engine Works", "Mathematician")


def test_volunteer_csv_lists_only_volunteers(client, organizer, slate):
    money_pledge(slate, 1_000)
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=slate, hours=6, activities=["canvassing", "driving"],
        zip_code="10027", availability="Weekends", supporter_state="NY",
    )  # fmt: skip
    client.force_login(organizer)
    rows = read_csv(client.get(reverse("organize:export-volunteers", args=[slate.slug])))
    assert len(rows) == 1
    assert rows[0]["hours"] == "6"
    assert rows[0]["activities"] == "canvassing driving"
    assert rows[0]["zip_code"] == "10027"


def test_csv_cells_that_look_like_formulas_are_defused(client, organizer, slate):
    money_pledge(slate, 1_000, supporter=UserFactory(first_name="=HYPERLINK(1)", last_name=""))
    client.force_login(organizer)
    rows = read_csv(client.get(reverse("organize:export-pledges", args=[slate.slug])))
    assert rows[0]["supporter_name"] == "'=HYPERLINK(1)"
