"""Read endpoints answer from the selectors, in the documented shapes."""

import pytest

pytestmark = pytest.mark.django_db


def test_slate_list_and_detail_show_published_slates(world):
    client = world.client("anonymous")
    response = client.get("/api/v1/slates")
    assert response.status_code == 200
    slugs = [s["slug"] for s in response.json()["results"]]
    assert world.slate.slug in slugs
    detail = client.get(f"/api/v1/slates/{world.slate.slug}").json()
    assert detail["state"] == "open"
    assert detail["threshold"]["min_signatures"] == 3
    assert detail["signed_candidate_count"] == 1


def test_totals_read_the_maintained_counters(world):
    totals = world.client("anonymous").get(f"/api/v1/slates/{world.slate.slug}/totals").json()
    # The pledge waits for its card: it is not live, so nothing counts yet.
    assert totals["counts"]["money_pledged_cents"] == 0
    assert totals["signed"] == 1
    assert totals["needed"] == 3
    assert totals["threshold_met"] is False
    assert "2 more candidate signature(s) needed" in totals["verdict"]["unmet"]


def test_candidates_show_who_signed_first(world):
    rows = world.client("anonymous").get(f"/api/v1/slates/{world.slate.slug}/candidates").json()
    assert len(rows) == 3
    assert rows[0]["signature"]["signed"] is True
    assert rows[0]["signature"]["agreement_version"] == 1
    assert rows[1]["signature"] is None


def test_agreement_versions_and_planks(world):
    client = world.client("anonymous")
    versions = client.get(f"/api/v1/slates/{world.slate.slug}/agreement/versions").json()
    assert [v["number"] for v in versions] == [1]
    assert versions[0]["current"] is True
    assert len(versions[0]["content_hash"]) == 64
    one = client.get(f"/api/v1/slates/{world.slate.slug}/agreement/versions/1")
    assert one.status_code == 200
    planks = client.get(f"/api/v1/slates/{world.slate.slug}/planks").json()
    assert [p["position"] for p in planks] == [1, 2]


def test_filtering_and_strict_ordering(world):
    client = world.client("anonymous")
    assert client.get("/api/v1/slates?state=draft").json()["results"] == []
    assert client.get("/api/v1/slates?state=bogus").status_code == 400
    response = client.get("/api/v1/slates?ordering=password")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "ordering" in response.json()["fields"]
    names = [s["name"] for s in client.get("/api/v1/slates?ordering=-name").json()["results"]]
    assert names == sorted(names, reverse=True)


def test_cursor_pagination_walks_every_page(world):
    client = world.client("anonymous")
    seen, url = [], "/api/v1/candidates?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [c["id"] for c in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


def test_errors_have_one_shape(world):
    client = world.client("anonymous")
    for url, status in (
        ("/api/v1/slates/no-such-slate", 404),
        ("/api/v1/no-such-endpoint", 404),
        ("/api/v1/pledges", 401),
        ("/api/v1/candidates/999999999999999999999999", 404),
        ("/api/v1/candidates?cursor=garbage", 404),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        body = response.json()
        assert set(body) == {"code", "message", "fields"}, url
    assert client.get("/api/v1/pledges")["WWW-Authenticate"].startswith("Bearer")


def test_referral_totals_are_for_the_partners_admins(world):
    client = world.client("partner_admin")
    rows = client.get(f"/api/v1/partners/{world.organization.slug}/referrals").json()
    assert rows[0]["slate"] == world.slate.slug
    assert rows[0]["referral_link"].endswith(f"/r/{world.organization.slug}/{world.slate.slug}/")
    assert (
        world.client("supporter")
        .get(f"/api/v1/partners/{world.organization.slug}/referrals")
        .status_code
        == 403
    )


def test_volunteer_hours_show_pledged_time_per_slate_campaign_and_partner(world):
    from pledges import intake as pledge_intake
    from tests.factories import UserFactory

    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=world.slate, hours=8, activities=["canvassing"],
        zip_code="94110", referred_by=world.organization,
    )  # fmt: skip
    pledge_intake.create_volunteer_pledge(
        supporter=UserFactory(), slate=world.slate, hours=3, activities=["phone_banking"],
        zip_code="10001",
    )  # fmt: skip

    answer = world.client("anonymous").get(f"/api/v1/slates/{world.slate.slug}/volunteer-hours")

    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == {
        "pledged_hours": 11, "scheduled_minutes": 0, "delivered_minutes": 0, "volunteers": 2,
    }  # fmt: skip
    # Before the lock no one is matched to a campaign; the partner brought the 8 hours.
    [signed] = body["candidates"]
    assert signed["kind"] == "candidate" and signed["hours"]["pledged_hours"] == 0
    [partner] = body["partners"]
    assert partner == {
        "kind": "partner", "id": world.organization.pk, "name": "Test Union",
        "hours": {
            "pledged_hours": 8, "scheduled_minutes": 0, "delivered_minutes": 0, "volunteers": 1
        },
    }  # fmt: skip
    assert "email" not in str(body)


def test_organizers_reading_donor_details_are_audited(world):
    from compliance.models import DonorDataAccess

    assert world.client("other_organizer").get(
        f"/api/v1/slates/{world.slate.slug}/pledges"
    ).status_code == 403  # fmt: skip
    assert not DonorDataAccess.objects.exists()

    answer = world.client("organizer").get(f"/api/v1/slates/{world.slate.slug}/pledges")

    assert answer.status_code == 200
    [pledge] = answer.json()["results"]
    assert pledge["donor"]["email"] == world.users["supporter"].email
    [logged] = DonorDataAccess.objects.all()
    assert (logged.actor, logged.what, logged.slate) == (
        world.users["organizer"], "api_pledges", world.slate,
    )  # fmt: skip
