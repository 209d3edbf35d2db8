"""Pledge writes through the API: the pledges and escrow services do the work; the API checks
field types, shapes errors, and makes POST /api/v1/pledges idempotent."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_money_volunteer_and_signon_pledges(world):
    client = world.client("other_supporter")
    money = client.post(
        "/api/v1/pledges",
        {"slate": world.slate.slug, "kind": "money", "attestations": ATTESTED, "amount_cents": 5000,
         "supporter_state": "NY", "referred_by": world.organization.slug},
        format="json",
    )  # fmt: skip
    assert money.status_code == 201, money.content
    assert money.json()["state"] == "pending_card"
    assert money.json()["card_url"] == f"/pledges/{money.json()['id']}/card/"
    assert money.json()["referred_by"] == world.organization.slug
    volunteer = client.post(
        "/api/v1/pledges",
        {"slate": world.slate.slug, "kind": "volunteer", "hours": 8,
         "activities": ["canvassing"], "zip_code": "10001"},
        format="json",
    )  # fmt: skip
    assert volunteer.status_code == 201, volunteer.content
    signon = client.post(
        "/api/v1/pledges", {"slate": world.slate.slug, "kind": "signon"}, format="json"
    )
    assert signon.status_code == 201
    totals = client.get(f"/api/v1/slates/{world.slate.slug}/totals").json()
    assert totals["counts"]["volunteer_hours"] == 8
    assert totals["counts"]["signon_count"] == 1
    mine = client.get("/api/v1/pledges?kind=volunteer").json()["results"]
    assert [p["id"] for p in mine] == [volunteer.json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "money", "attestations": ATTESTED, "amount_cents": "5000"}, "amount_cents"),
        ({"kind": "money", "attestations": ATTESTED, "amount_cents": 50.5}, "amount_cents"),
        ({"kind": "money", "attestations": ATTESTED, "amount_cents": True}, "amount_cents"),
        ({"kind": "money", "attestations": ATTESTED, "amount_cents": 10}, "amount_cents"),
        ({"kind": "money", "attestations": ATTESTED, "amount_cents": 10**12}, "amount_cents"),
        ({"kind": "money", "attestations": ATTESTED}, "amount_cents"),
        (
            {"kind": "volunteer", "hours": 2, "activities": ["canvassing"], "zip_code": "x"},
            "zip_code",
        ),
        (
            {"kind": "volunteer", "hours": 2, "activities": ["juggling"], "zip_code": "10001"},
            "activities",
        ),
        ({"kind": "gift"}, "kind"),
        (
            {
                "kind": "money",
                "attestations": ATTESTED,
                "amount_cents": 500,
                "supporter_state": "ZZ",
            },
            "supporter_state",
        ),
        (
            {
                "kind": "money",
                "attestations": ATTESTED,
                "amount_cents": 500,
                "referred_by": "nobody",
            },
            "referred_by",
        ),
        (
            {
                "kind": "money",
                "attestations": ATTESTED,
                "amount_cents": 500,
                "allocation": [{"candidate": 1, "weight_bps": 1}],
            },
            "allocation",
        ),
        ({"kind": "signon", "slate": "no-such-slate"}, "slate"),
        ({"kind": "signon", "slate": "a\x00b"}, "slate"),
    ],
)
def test_bad_pledges_are_400_with_the_field_and_change_nothing(world, body, field):
    client = world.client("other_supporter")
    before = Pledge.objects.count()
    response = client.post("/api/v1/pledges", {"slate": world.slate.slug, **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert Pledge.objects.count() == before


def test_a_body_that_is_not_a_json_object_is_400(world):
    client = world.client("supporter")
    for raw, content_type in (("[1,2]", "application/json"), ("{", "application/json")):
        response = client.post("/api/v1/pledges", raw, content_type=content_type)
        assert response.status_code == 400
    response = client.post("/api/v1/pledges", "kind=money", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_supporter_cancels_their_own_pledge_only(world):
    pledge_id = world.pledge.pk
    assert (
        world.client("other_supporter").post(f"/api/v1/pledges/{pledge_id}/cancel").status_code
        == 404
    )
    assert world.client("organizer").get(f"/api/v1/pledges/{pledge_id}").status_code == 404
    response = world.client("supporter").post(
        f"/api/v1/pledges/{pledge_id}/cancel", {"reason": "changed my mind"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    again = world.client("supporter").post(f"/api/v1/pledges/{pledge_id}/cancel")
    assert again.status_code == 400
    assert again.json()["code"] == "not_cancellable"


# --- Idempotency-Key --------------------------------------------------------------------------


def test_the_same_key_and_body_return_the_first_pledge(world):
    client = world.client("other_supporter")
    body = {
        "slate": world.slate.slug,
        "kind": "money",
        "attestations": ATTESTED,
        "amount_cents": 4200,
    }
    first = client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Pledge.objects.filter(supporter=world.users["other_supporter"]).count() == 1


def test_the_same_key_with_another_body_is_422(world):
    client = world.client("other_supporter")
    body = {
        "slate": world.slate.slug,
        "kind": "money",
        "attestations": ATTESTED,
        "amount_cents": 4200,
    }
    client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = client.post(
        "/api/v1/pledges", {**body, "amount_cents": 9900}, format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Pledge.objects.filter(supporter=world.users["other_supporter"]).count() == 1


def test_keys_belong_to_one_user(world):
    body = {"slate": world.slate.slug, "kind": "signon"}
    first = world.client("other_supporter").post(
        "/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    second = world.client("supporter").post(
        "/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_a_refused_request_does_not_use_up_its_key(world):
    client = world.client("other_supporter")
    body = {"slate": world.slate.slug, "kind": "money", "attestations": ATTESTED, "amount_cents": 5}
    assert (
        client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code
        == 400
    )
    assert not IdempotencyRecord.objects.exists()
    fixed = client.post(
        "/api/v1/pledges", {**body, "amount_cents": 500}, format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )  # fmt: skip
    assert fixed.status_code == 201


def test_a_bad_key_is_400(world):
    client = world.client("other_supporter")
    body = {"slate": world.slate.slug, "kind": "signon"}
    response = client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_pledge():
    slate = make_open_slate(candidates=2, min_signatures=2)
    user = UserFactory()
    body = {"slate": slate.slug, "kind": "money", "attestations": ATTESTED, "amount_cents": 1500}
    barrier = threading.Barrier(4)
    results = []

    def post():
        try:
            barrier.wait(timeout=10)
            response = _client(user).post(
                "/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4
    assert {status for status, _ in results} == {201}
    assert len({pledge_id for _, pledge_id in results}) == 1
    assert Pledge.objects.filter(supporter=user).count() == 1


def test_old_idempotency_keys_are_forgotten(world):
    from datetime import timedelta

    from django.utils import timezone

    from api.services import forget_idempotency_records

    client = world.client("other_supporter")
    body = {"slate": world.slate.slug, "kind": "signon"}
    client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post("/api/v1/pledges", body, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=49)
    )
    assert forget_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
