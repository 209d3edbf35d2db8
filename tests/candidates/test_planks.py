"""Planks inside the agreement: hashed with it, committed to one by one, tallied in public."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from candidates import agreements, selectors, signatures
from candidates.models import AgreementVersion, PlankCommitment, Signature, agreement_content_hash
from candidates.services import CandidateError
from tests.factories import (
    UserFactory,
    make_open_slate,
    organizer_of,
    sign,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


def sign_with(candidate, slate, reservations=None):
    version = selectors.current_agreement_version(slate)
    return signatures.sign_agreement(
        candidate=candidate, slate=slate, agreement_version_id=version.pk,
        typed_name=candidate.full_name, signer=candidate.user, reservations=reservations,
    )  # fmt: skip


def test_the_hash_covers_each_planks_title_and_text():
    base = [{"title": "Climate", "text": "Net zero by 2045"}]
    reference = agreement_content_hash("T", "Text", base)
    assert (
        agreement_content_hash("T", "Text", [{"title": "Climate", "text": "Net zero by 2050"}])
        != reference
    )
    assert (
        agreement_content_hash("T", "Text", [{"title": "Climat", "text": "Net zero by 2045"}])
        != reference
    )
    assert agreement_content_hash("T", "Text", []) != reference
    # A version without planks hashes as it did before planks were hashed.
    assert agreement_content_hash("T", "Text") == hashlib.sha256(b"T\n\nText").hexdigest()


def test_the_published_version_holds_the_slates_planks():
    slate = make_open_slate()
    version = selectors.current_agreement_version(slate)
    assert version.planks == [
        {"title": "Universal health care", "text": "Medicare for all"},
        {"title": "Climate", "text": ""},
    ]
    assert version.content_hash == agreement_content_hash(
        version.title, version.text, version.planks
    )


def test_changing_a_plank_publishes_a_new_version_and_signers_must_sign_again():
    slate = make_open_slate(min_signatures=3)
    organizer = organizer_of(slate)
    first, second = slate_candidates(slate)[:2]
    sign(first, slate)
    sign(second, slate)
    old = selectors.current_agreement_version(slate)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 2

    new = agreements.revise_planks(
        slate=slate, actor=organizer,
        planks=[("Universal health care", "Medicare for all, dental included"), ("Climate", "")],
    )  # fmt: skip
    assert new.number == old.number + 1
    assert new.published_at is not None
    assert new.text == old.text
    assert new.content_hash != old.content_hash
    assert new.planks[0]["text"] == "Medicare for all, dental included"
    assert list(slate.planks.values_list("summary", flat=True)) == [
        "Medicare for all, dental included",
        "",
    ]
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 0
    assert slate.agreement_version_number == new.number
    assert [t.committed for t in selectors.plank_tallies(slate)] == [0, 0]

    sign(first, slate)
    slate.refresh_from_db()
    assert slate.signed_candidate_count == 1
    assert [t.committed for t in selectors.plank_tallies(slate)] == [1, 1]


def test_planks_change_only_by_this_slates_organizers_and_only_when_they_differ():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    same = [("Universal health care", "Medicare for all"), ("Climate", "")]
    with pytest.raises(CandidateError) as excinfo:
        agreements.revise_planks(slate=slate, actor=candidate.user, planks=same)
    assert excinfo.value.code == "forbidden"
    with pytest.raises(CandidateError) as excinfo:
        agreements.revise_planks(slate=slate, actor=organizer_of(slate), planks=same)
    assert excinfo.value.code == "unchanged"
    with pytest.raises(CandidateError) as excinfo:
        agreements.revise_planks(slate=slate, actor=organizer_of(slate), planks=[])
    assert excinfo.value.code == "no_planks"
    assert AgreementVersion.objects.filter(agreement__slate=slate).count() == 1
    assert slate.planks.count() == 2


def test_signing_commits_to_every_plank_with_the_reservations_given():
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    signature = sign_with(candidate, slate, {2: "Net zero by 2050 is realistic, not 2045."})
    rows = list(signature.commitments.order_by("position").values_list(
        "position", "choice", "reservation"
    ))  # fmt: skip
    assert rows == [
        (1, "committed", ""),
        (2, "reserved", "Net zero by 2050 is realistic, not 2045."),
    ]


@pytest.mark.parametrize(
    ("reservations", "code"),
    [
        ({3: "There is no third plank."}, "unknown_plank"),
        ({0: "Nor a plank zero."}, "unknown_plank"),
        ({1: "   "}, "required"),
        ({1: "x" * 501}, "too_long"),
        ({1: "nul\x00"}, "invalid_text"),
    ],
)
def test_a_bad_reservation_is_refused_and_nothing_is_signed(reservations, code):
    slate = make_open_slate()
    candidate = slate_candidates(slate)[0]
    with pytest.raises(CandidateError) as excinfo:
        sign_with(candidate, slate, reservations)
    assert excinfo.value.code == code
    assert not Signature.objects.exists()
    assert not PlankCommitment.objects.exists()


def recount(slate) -> list[tuple[int, int, int]]:
    """(position, committed, reserved) counted from the rows, independently of the selector."""
    version = selectors.current_agreement_version(slate)
    signed = {s.candidate.pk for s in selectors.slate_candidate_standings(slate) if s.signed}
    result = []
    for position, _ in version.numbered_planks():
        rows = PlankCommitment.objects.filter(
            position=position,
            signature__agreement_version=version,
            signature__withdrawn_at__isnull=True,
            signature__candidate_id__in=signed,
        )
        result.append((position, rows.count(), rows.filter(choice="reserved").count()))
    return result


def test_tallies_equal_a_recount_through_signing_withdrawing_and_a_new_version():
    slate = make_open_slate(candidates=6, min_signatures=6)
    candidates = slate_candidates(slate)

    def tallies():
        return [
            (t.position, t.committed, len(t.reservations)) for t in selectors.plank_tallies(slate)
        ]

    sign_with(candidates[0], slate)
    sign_with(candidates[1], slate, {1: "Phase it in over four years."})
    sign_with(candidates[2], slate, {1: "Keep private options.", 2: "Nuclear stays."})
    sign_with(candidates[3], slate, {2: "Slower for farms."})
    assert tallies() == recount(slate) == [(1, 4, 2), (2, 4, 2)]
    assert all(t.invited == 6 for t in selectors.plank_tallies(slate))

    signatures.withdraw_signature(candidate=candidates[2], slate=slate, signer=candidates[2].user)
    assert tallies() == recount(slate) == [(1, 3, 1), (2, 3, 1)]

    agreements.revise_planks(
        slate=slate, actor=organizer_of(slate),
        planks=[("Universal health care", "Medicare for all"), ("Climate", ""), ("Housing", "")],
    )  # fmt: skip
    sign_with(candidates[4], slate, {3: "Zoning is local."})
    assert tallies() == recount(slate) == [(1, 1, 0), (2, 1, 0), (3, 1, 1)]


def test_the_sign_page_takes_a_choice_per_plank_and_the_slate_page_shows_the_tallies():
    slate = make_open_slate(candidates=3)
    candidate = slate_candidates(slate)[0]
    version = selectors.current_agreement_version(slate)
    client = Client()
    client.force_login(candidate.user)
    url = reverse("candidates:sign", args=[slate.slug])
    page = client.get(url)
    assert b"I commit, with a public reservation" in page.content

    form = {
        "typed_name": candidate.full_name, "consent": "on", "agreement_version_id": version.pk,
        "plank_1_choice": "committed", "plank_2_choice": "reserved", "plank_2_reservation": "",
    }  # fmt: skip
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert b"Say what your reservation is" in refused.content
    assert not Signature.objects.exists()

    form["plank_2_reservation"] = "<b>2050</b>, not 2045"
    assert client.post(url, form).status_code == 302
    public = Client().get(slate.get_absolute_url()).content.decode()
    assert "1 of 3 committed to Universal health care" in public
    assert "1 of 3 committed to Climate" in public
    assert "&lt;b&gt;2050&lt;/b&gt;, not 2045" in public  # stored as written, escaped
    assert "<b>2050</b>" not in public


def test_the_organizers_plank_page_publishes_a_new_version():
    slate = make_open_slate()
    organizer = organizer_of(slate)
    client = Client()
    client.force_login(organizer)
    url = reverse("organize:revise-planks", args=[slate.slug])
    assert client.get(url).status_code == 200
    data = {
        "planks-TOTAL_FORMS": "3", "planks-INITIAL_FORMS": "0", "planks-MIN_NUM_FORMS": "0",
        "planks-MAX_NUM_FORMS": "20",
        "planks-0-title": "Universal health care", "planks-0-summary": "Medicare for all",
        "planks-1-title": "Climate", "planks-1-summary": "",
        "planks-2-title": "Housing for all", "planks-2-summary": "",
    }  # fmt: skip
    assert client.post(url, data).status_code == 302
    assert selectors.current_agreement_version(slate).planks[2]["title"] == "Housing for all"

    unchanged = client.post(url, data)
    assert unchanged.status_code == 400
    assert b"same as in the signed agreement" in unchanged.content
    other = Client()
    other.force_login(UserFactory())
    assert other.post(url, data).status_code == 403
