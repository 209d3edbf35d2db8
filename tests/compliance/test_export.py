"""The Schedule A export against a hand-computed fixture, its permissions and audit log."""

import csv
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from compliance import export, services
from compliance.models import DonorDataAccess, Treasurer
from escrow.models import LedgerTransaction
from tests.compliance.helpers import (
    DETAILS,
    money_pledge,
    record_capture,
    record_refund,
    slates_sharing_candidates,
)
from tests.factories import UserFactory, current_totp_code, with_totp

pytestmark = pytest.mark.django_db


def person(first, last, zip_code="97201", **extra):
    return DETAILS | {"first_name": first, "last_name": last, "zip_code": zip_code} | extra


def give(slate, user, cents, candidate, day, details):
    made = money_pledge(
        slate, user, cents, allocation={candidate.pk: 10_000}, donor_details=details
    )
    record_capture(made, {candidate.pk: cents})
    LedgerTransaction.objects.filter(pledge=made, kind="capture").update(
        created_at=datetime(2026, *day, 15, tzinfo=UTC)
    )
    return made


@pytest.fixture
def fixture():
    """By hand (threshold $200 per cycle, aggregates over every slate):
    03-01 Ada    $150 via S1  agg 150 -> unitemized
    03-02 Bob    $120 via S1  agg 120 -> unitemized   (Bob's first account)
    03-05 Cy      $50 via S1  agg  50 -> unitemized
    03-10 Dee    $300 via S1, $50 refunded: net $250, agg 250 -> itemized
    03-20 Bob     $90 via S1  (second account, merged into the first) agg 210 -> itemized
    04-01 Ada    $100 via S2  agg 250 -> itemized
    Unitemized: 3 contributions, $320.00."""
    (s1, s2), (a, _, _) = slates_sharing_candidates(slates=2)
    a.fec_committee_id = "C00123456"
    a.save(update_fields=["fec_committee_id"])
    ada, bob, bob2, cy, dee = (UserFactory() for _ in range(5))
    give(s1, ada, 15_000, a, (3, 1), person("Ada", "Lovelace"))
    give(s1, bob, 12_000, a, (3, 2), person("Bob", "Okafor", "10027", city="New York", state="NY"))
    give(s1, cy, 5_000, a, (3, 5), person("Cy", "Twombly"))
    dee_pledge = give(s1, dee, 30_000, a, (3, 10), person("Dee", "Rees", employer="=HYPERLINK(1)"))
    record_refund(dee_pledge, {a.pk: 5_000})
    duplicate = services.ensure_donor(bob2)
    duplicate.merged_into = services.ensure_donor(bob)
    duplicate.save()
    give(s1, bob2, 9_000, a, (3, 20), person("Robert", "Okafor"))
    give(s2, ada, 10_000, a, (4, 1), person("Ada", "Lovelace"))
    return a, s1, s2


def rows_of(report) -> list[dict[str, str]]:
    out = StringIO()
    export.write_csv(report, out)
    return list(csv.DictReader(StringIO(out.getvalue())))


def test_columns_amounts_and_aggregates_match_the_hand_computed_figures(fixture):
    candidate, _, _ = fixture
    rows = rows_of(export.schedule_a(candidate))
    assert list(rows[0]) == list(export.COLUMNS)
    itemized = [r for r in rows if r["FORM TYPE"] == "SA11AI"]
    assert [
        (r["CONTRIBUTOR LAST NAME"], r["CONTRIBUTOR FIRST NAME"], r["CONTRIBUTION DATE"],
         r["CONTRIBUTION AMOUNT"], r["CONTRIBUTION AGGREGATE"])
        for r in itemized
    ] == [
        ("Rees", "Dee", "20260310", "250.00", "250.00"),
        ("Okafor", "Bob", "20260320", "90.00", "210.00"),
        ("Lovelace", "Ada", "20260401", "100.00", "250.00"),
    ]  # fmt: skip
    bob = itemized[1]
    assert (bob["CONTRIBUTOR CITY"], bob["CONTRIBUTOR STATE"], bob["CONTRIBUTOR ZIP"]) == (
        "New York",
        "NY",
        "10027",
    )  # the surviving donor's details, not the merged account's
    assert all(r["ENTITY TYPE"] == "IND" for r in itemized)
    assert all(r["FILER COMMITTEE ID NUMBER"] == "C00123456" for r in itemized)
    assert all(r["ELECTION CODE"] == "G2026" for r in itemized)
    assert [r["CONTRIBUTOR EMPLOYER"] for r in itemized] == [
        "'=HYPERLINK(1)",
        "Self-employed",
        "Self-employed",
    ]  # a formula is quoted, never run by a spreadsheet
    assert all(r["MEMO TEXT/DESCRIPTION"].startswith("Earmarked through Slate") for r in itemized)
    assert "refund" in itemized[0]["MEMO TEXT/DESCRIPTION"]
    summary = rows[-1]
    assert summary["FORM TYPE"] == "SA11AII"
    assert summary["CONTRIBUTION AMOUNT"] == "320.00"
    assert summary["MEMO TEXT/DESCRIPTION"].endswith(": 3")


def test_an_organizers_report_covers_their_slate_with_aggregates_from_every_slate(fixture):
    candidate, _, s2 = fixture
    rows = rows_of(export.schedule_a(candidate, slate=s2))
    figures = [
        (r["FORM TYPE"], r["CONTRIBUTION AMOUNT"], r["CONTRIBUTION AGGREGATE"]) for r in rows
    ]
    assert figures == [
        ("SA11AI", "100.00", "250.00"),
        ("SA11AII", "0.00", ""),
    ]  # fmt: skip


def test_a_date_range_limits_rows_not_aggregates(fixture):
    candidate, _, _ = fixture
    from datetime import date

    report = export.schedule_a(candidate, start=date(2026, 3, 15), end=date(2026, 3, 31))
    assert [(r["CONTRIBUTION AMOUNT"], r["CONTRIBUTION AGGREGATE"]) for r in report.rows] == [
        ("90.00", "210.00")
    ]
    assert report.unitemized_cents == 0


def test_treasurer_organizer_and_staff_download_others_get_403_and_nothing_logged(client, fixture):
    candidate, s1, _ = fixture
    url = f"/compliance/exports/{candidate.pk}/schedule-a.csv"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert client.get(url + f"?slate={s1.slug}").status_code == 403
    assert not DonorDataAccess.objects.exists()

    treasurer = UserFactory()
    Treasurer.objects.create(candidate=candidate, user=treasurer)
    client.force_login(treasurer)
    response = client.get(url)  # no two-factor yet: sent to set it up, nothing downloaded
    assert response.status_code == 302
    assert not DonorDataAccess.objects.exists()
    with_totp(treasurer)
    response = client.get(url)  # set up, but this login has not entered a code: no download
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    assert not DonorDataAccess.objects.exists()
    cache.clear()  # allauth refuses a code used twice; tests share one secret
    client.post("/accounts/2fa/reauthenticate/", {"code": current_totp_code()})
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert b"Lovelace" in response.content
    access = DonorDataAccess.objects.get()
    assert (access.actor, access.what, access.candidate) == (treasurer, "export", candidate)

    organizer = with_totp(s1.organizers.first())
    client.force_login(organizer)
    assert client.get(url).status_code == 403  # every slate is the treasurer's view
    response = client.get(url + f"?slate={s1.slug}")
    assert response.status_code == 200
    assert b"Rees" in response.content
    assert b"Lovelace" not in response.content  # Ada's only S1 contribution is unitemized
    assert DonorDataAccess.objects.filter(actor=organizer, slate=s1).count() == 1
    assert client.get("/compliance/exports/").status_code == 200


def test_the_command_writes_the_same_csv_and_logs_it(fixture, tmp_path):
    candidate, _, _ = fixture
    target = tmp_path / "a.csv"
    call_command("export_contributions", "--committee", "c00123456", "--output", str(target))
    rows = list(csv.DictReader(target.open()))
    assert [r["CONTRIBUTION AMOUNT"] for r in rows] == ["250.00", "90.00", "100.00", "320.00"]
    assert DonorDataAccess.objects.filter(what="command", candidate=candidate).count() == 1
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_contributions", "--candidate", str(candidate.pk), "--from", "soon")
    with pytest.raises(CommandError, match="No such candidate"):
        call_command("export_contributions", "--candidate", "999999")
