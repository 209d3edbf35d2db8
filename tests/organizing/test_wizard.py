"""The create-a-slate wizard: every step's permissions, happy path and bad input."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import AgreementVersion, Candidate, Invitation
from slate.models import Plank, Slate
from tests.factories import (
    UserFactory,
    make_draft_slate,
    make_open_slate,
    make_staff,
    organizer_of,
    with_totp,
)

pytestmark = pytest.mark.django_db

LATER = (timezone.now() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")


def candidate_form(name, **extra):
    return {"full_name": name, "office": "house", "state": "CA", "district": "12", **extra}


def planks_form(*rows):
    data = {
        "planks-TOTAL_FORMS": str(len(rows)),
        "planks-INITIAL_FORMS": "0",
        "planks-MIN_NUM_FORMS": "0",
        "planks-MAX_NUM_FORMS": "20",
    }
    for index, (title, summary) in enumerate(rows):
        data[f"planks-{index}-title"] = title
        data[f"planks-{index}-summary"] = summary
    return data


def step_urls(slate):
    return [
        reverse(f"organize:{name}", args=[slate.slug])
        for name in ("basics", "planks", "candidates", "rule", "agreement", "preview")
    ]


def test_the_whole_wizard_creates_and_publishes_a_slate(client):
    organizer = with_totp(UserFactory())
    client.force_login(organizer)
    assert client.get(reverse("organize:new")).status_code == 200
    response = client.post(
        reverse("organize:new"),
        {"name": "Great Lakes Slate", "mission": "Win together.", "deadline": LATER},
    )
    slate = Slate.objects.get(name="Great Lakes Slate")
    assert response["Location"] == reverse("organize:planks", args=[slate.slug])
    assert slate.state == "draft" and organizer in slate.organizers.all()

    response = client.post(
        reverse("organize:planks", args=[slate.slug]),
        planks_form(("Health care", "For all"), ("", ""), ("Climate", "")),
    )
    assert response.status_code == 302
    assert list(slate.planks.values_list("title", flat=True)) == ["Health care", "Climate"]

    for name in ("Ann Alpha", "Bo Beta", "Cy Gamma"):
        response = client.post(
            reverse("organize:candidates", args=[slate.slug]), candidate_form(name)
        )
        assert response.status_code == 302, response.content
    assert Invitation.objects.filter(slate=slate).count() == 3

    response = client.post(
        reverse("organize:rule", args=[slate.slug]),
        {"min_signatures": "2", "min_money_dollars": "1000", "min_volunteer_hours": ""},
    )
    assert response.status_code == 302
    slate.refresh_from_db()
    assert (slate.threshold_min_signatures, slate.threshold_min_money_cents) == (2, 100_000)

    response = client.post(
        reverse("organize:agreement", args=[slate.slug]),
        {"title": "Our pact", "text": "We campaign together."},
    )
    assert response["Location"] == reverse("organize:preview", args=[slate.slug])
    preview = client.get(reverse("organize:preview", args=[slate.slug])).content.decode()
    assert "We campaign together." in preview and "Health care" in preview

    # A new organizer's first slate goes to staff's review queue, not straight to the public.
    response = client.post(reverse("organize:publish", args=[slate.slug]))
    assert response["Location"] == reverse("organize:index")
    slate.refresh_from_db()
    assert slate.state == "review"
    assert AgreementVersion.objects.get(agreement__slate=slate).published_at is not None
    assert Client().get(slate.get_absolute_url()).status_code == 404

    staff = Client()
    staff.force_login(make_staff())
    response = staff.post(reverse("organize:review-approve", args=[slate.slug]))
    assert response["Location"] == reverse("organize:review-queue")
    slate.refresh_from_db()
    assert slate.state == "open"
    assert Client().get(slate.get_absolute_url()).status_code == 200


def test_publishing_an_incomplete_draft_explains_and_changes_nothing(client):
    organizer = UserFactory()
    slate = make_draft_slate(organizer=organizer, min_signatures=2)
    client.force_login(organizer)
    client.post(
        reverse("organize:agreement", args=[slate.slug]), {"title": "", "text": "Together."}
    )
    response = client.post(reverse("organize:publish", args=[slate.slug]))
    assert response.status_code == 400
    assert "only 0 candidates are invited" in response.content.decode()
    slate.refresh_from_db()
    assert slate.state == "draft"
    # The agreement was not published either: both or neither.
    assert not AgreementVersion.objects.filter(published_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "mission": "m", "deadline": LATER}, "name", "required"),
        ({"name": "n", "mission": "m", "deadline": "tomorrow"}, "deadline", "valid date"),
        ({"name": "n", "mission": "m", "deadline": "2001-01-01T10:00"}, "deadline", "future"),
        ({"name": "n\x00", "mission": "m", "deadline": LATER}, "name", "Null characters"),
        ({"name": "n", "mission": "x" * 10_001, "deadline": LATER}, "mission", "at most"),
    ],
)
def test_bad_basics_are_field_errors_and_create_nothing(client, data, field, message):
    client.force_login(with_totp(UserFactory()))
    response = client.post(reverse("organize:new"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Slate.objects.exists()


def test_bad_steps_are_field_errors_and_change_nothing(client):
    organizer = UserFactory()
    slate = make_draft_slate(organizer=organizer, min_signatures=3)
    client.force_login(organizer)
    planks_before = list(Plank.objects.values_list("title", flat=True))

    response = client.post(reverse("organize:planks", args=[slate.slug]), planks_form(("", "")))
    assert response.status_code == 400
    response = client.post(
        reverse("organize:planks", args=[slate.slug]), planks_form(("", "summary only"))
    )
    assert response.status_code == 400
    assert list(Plank.objects.values_list("title", flat=True)) == planks_before

    for data in (
        {"min_signatures": "0"},
        {"min_signatures": "abc"},
        {"min_signatures": "2", "min_money_dollars": "-5"},
    ):
        response = client.post(reverse("organize:rule", args=[slate.slug]), data)
        assert response.status_code == 400, data
    slate.refresh_from_db()
    assert slate.threshold_min_signatures == 3

    response = client.post(reverse("organize:agreement", args=[slate.slug]), {"text": "  "})
    assert response.status_code == 400
    assert not AgreementVersion.objects.exists()

    response = client.post(
        reverse("organize:candidates", args=[slate.slug]),
        candidate_form("X", fec_candidate_id="NOTANID", state="ZZ"),
    )
    assert response.status_code == 400
    response = client.post(
        reverse("organize:candidates", args=[slate.slug]),
        candidate_form("Y", fec_candidate_id="BADID1234"),
    )
    assert response.status_code == 400
    # the error beside the FEC id field (its label says "FEC" anyway)
    assert (
        '<p class="error" id="id_fec_candidate_id-error">An FEC candidate id looks like'
        in response.content.decode()
    )
    assert not Candidate.objects.exists()

    # An id another profile already has: said beside the field, and nothing is added.
    response = client.post(
        reverse("organize:candidates", args=[slate.slug]),
        candidate_form("Z", fec_candidate_id="H8CA05035"),
    )
    assert response.status_code == 302
    response = client.post(
        reverse("organize:candidates", args=[slate.slug]),
        candidate_form("W", fec_candidate_id="h8ca05035"),
    )
    assert response.status_code == 400
    assert (
        '<p class="error" id="id_fec_candidate_id-error">Another candidate profile already has '
        "this FEC candidate ID.</p>" in response.content.decode()
    )
    assert list(Candidate.objects.values_list("fec_candidate_id", flat=True)) == ["H8CA05035"]


def test_wizard_pages_need_login_and_this_slates_organizer(client):
    slate = make_draft_slate()
    for url in [reverse("organize:new"), *step_urls(slate)]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    client.force_login(UserFactory())
    for url in step_urls(slate):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("organize:publish", args=[slate.slug])).status_code == 403
    assert (
        client.post(
            reverse("organize:candidates", args=[slate.slug]), candidate_form("Z")
        ).status_code
        == 403
    )
    slate.refresh_from_db()
    assert slate.state == "draft" and not Candidate.objects.exists()


def test_a_published_slates_steps_lead_back_to_the_dashboard(client):
    slate = make_open_slate()
    client.force_login(organizer_of(slate))
    for name in ("basics", "planks", "rule", "agreement", "preview"):
        response = client.get(reverse(f"organize:{name}", args=[slate.slug]))
        assert response["Location"] == reverse("organize:dashboard", args=[slate.slug]), name
    response = client.post(reverse("organize:rule", args=[slate.slug]), {"min_signatures": "1"})
    slate.refresh_from_db()
    assert slate.threshold_min_signatures == 3


def test_a_drafts_basics_can_be_edited_and_bad_edits_change_nothing(client):
    organizer = UserFactory()
    slate = make_draft_slate(organizer=organizer)
    client.force_login(organizer)
    url = reverse("organize:basics", args=[slate.slug])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Renamed", "mission": "New mission", "deadline": LATER})
    assert response["Location"] == reverse("organize:planks", args=[slate.slug])
    slate.refresh_from_db()
    assert (slate.name, slate.mission) == ("Renamed", "New mission")
    response = client.post(url, {"name": "", "mission": "m", "deadline": "2001-01-01T00:00"})
    assert response.status_code == 400
    slate.refresh_from_db()
    assert slate.name == "Renamed"
