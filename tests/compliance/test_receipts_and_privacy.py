"""Receipts (email, page, PDF) for each capture and refund; a supporter's data download and
deletion; the best-efforts request for missing details; the donor admin and its audit log."""

import json

import pytest
from django.core import mail
from django.core.management import call_command

from compliance import services
from compliance.models import DeletionRequest, Donor, DonorDataAccess, DonorInfoRequest
from compliance.tasks import send_missing_receipts
from escrow.models import LedgerTransaction
from escrow.selectors import ledger_problems
from pledges import services as pledge_services
from tests.compliance.helpers import (
    DETAILS,
    money_pledge,
    record_capture,
    record_refund,
    slates_sharing_candidates,
)
from tests.factories import UserFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured():
    (slate, _), (a, b, _) = slates_sharing_candidates(slates=2)
    supporter = UserFactory()
    made = money_pledge(slate, supporter, 30_000, allocation={a.pk: 5_000, b.pk: 5_000})
    made = record_capture(made, {a.pk: 15_000, b.pk: 15_000})
    assert send_missing_receipts() == 1  # the beat job (every five minutes)
    return made, a, b


def test_a_capture_emails_one_receipt_per_committee_amount_with_the_pdf(captured):
    made, a, b = captured
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [made.supporter.email]
    assert f"{a.full_name}: $150" in message.body and f"{b.full_name}: $150" in message.body
    assert "Total: $300" in message.body
    assert "nothing is charged" in message.body  # the conditions the donor pledged on
    (name, content, mimetype) = message.attachments[0]
    assert name.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    # A retried task, or the hourly sweep for lost messages, sends nothing more.
    transaction_id = LedgerTransaction.objects.get(pledge=made, kind="capture").pk
    from compliance.notifications import send_receipt

    assert send_receipt(transaction_id=transaction_id) is False
    assert send_missing_receipts() == 0
    assert len(mail.outbox) == 1


def test_a_receipt_the_mail_server_failed_is_sent_by_the_next_sweep(monkeypatch):
    """A failed send records nothing: the sweep (and the task's retry) sends it later, once;
    the receipt that failed does not hold up the next supporter's."""
    from slate import mail as slate_mail

    (slate, _), (a, b, _) = slates_sharing_candidates(slates=2)
    first, second = UserFactory(), UserFactory()
    for supporter in (first, second):
        made = money_pledge(slate, supporter, 10_000, allocation={a.pk: 5_000, b.pk: 5_000})
        record_capture(made, {a.pk: 5_000, b.pk: 5_000})
    real_deliver = slate_mail.deliver

    def down_for_the_first(message):
        if message.to == [first.email]:
            raise ConnectionRefusedError("mail server down")
        real_deliver(message)

    monkeypatch.setattr(slate_mail, "deliver", down_for_the_first)
    assert send_missing_receipts() == 1
    assert [m.to for m in mail.outbox] == [[second.email]]
    monkeypatch.setattr(slate_mail, "deliver", real_deliver)
    assert send_missing_receipts() == 1
    assert [m.to for m in mail.outbox] == [[second.email], [first.email]]
    assert send_missing_receipts() == 0


def test_a_refund_has_its_own_receipt(captured):
    made, a, b = captured
    record_refund(made, {a.pk: 2_500, b.pk: 2_500})
    assert send_missing_receipts() == 1
    assert len(mail.outbox) == 2
    assert "Refund receipt R-" in mail.outbox[1].body and "Total: $50" in mail.outbox[1].body


def test_supporters_see_only_their_own_receipts(client, captured):
    made, a, _ = captured
    transaction_id = LedgerTransaction.objects.get(pledge=made, kind="capture").pk
    client.force_login(made.supporter)
    page = client.get(f"/receipts/{transaction_id}/")
    assert page.status_code == 200 and a.full_name.encode() in page.content
    assert b"$300" in page.content and b"nothing is charged" in page.content
    pdf = client.get(f"/receipts/{transaction_id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"$300" in client.get("/receipts/").content
    client.force_login(UserFactory())
    assert client.get(f"/receipts/{transaction_id}/").status_code == 404
    assert client.get(f"/receipts/{transaction_id}.pdf").status_code == 404
    assert b"$300" not in client.get("/receipts/").content


def test_a_supporter_downloads_all_their_data_as_json(client, captured):
    made, _, _ = captured
    client.force_login(made.supporter)
    response = client.get("/account/my-data.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["email"] == made.supporter.email
    assert data["donor"]["occupation"] == DETAILS["occupation"]
    assert data["pledges"][0]["declaration"]["disclosed_conditions"].startswith("Slate:")
    assert data["pledges"][0]["captured_cents"] == 30_000
    assert data["receipts"][0]["total_cents"] == 30_000
    assert sum(c["amount_cents"] for c in data["contributions"]) == 30_000


def test_deletion_keeps_what_the_law_requires_and_the_books_balance(client, captured):
    made, _, _ = captured
    supporter = made.supporter
    client.force_login(supporter)
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 302
    supporter.refresh_from_db()
    assert not supporter.is_active and supporter.email.endswith("@deleted.invalid")
    assert not supporter.has_usable_password()
    donor = Donor.objects.get(user=supporter)
    assert donor.retained_for_law and donor.anonymized_at
    assert (donor.last_name, donor.employer, donor.zip_code) == (
        "Lovelace",
        "Self-employed",
        "97201",
    )
    assert donor.email == ""
    assert "52 U.S.C. 30102" in DeletionRequest.objects.get(user=supporter).kept
    assert ledger_problems() == []
    call_command("check_ledger")  # exits non-zero (SystemExit) if the books broke


def test_deletion_of_a_donor_who_never_gave_wipes_everything():
    (slate, _), _ = slates_sharing_candidates(slates=2)
    supporter = UserFactory()
    made = money_pledge(slate, supporter, 30_000)
    pledge_services.cancel_pledge(pledge=made, actor=supporter)
    from compliance.privacy import delete_personal_data

    delete_personal_data(user=supporter, actor=supporter)
    donor = Donor.objects.get(user=supporter)
    assert not donor.retained_for_law
    assert all(getattr(donor, f) == "" for f in ("first_name", "last_name", "street_1", "email"))


def test_deletion_is_refused_while_a_pledge_is_unsettled_and_changes_nothing(client):
    (slate, _), _ = slates_sharing_candidates(slates=2)
    supporter = UserFactory()
    money_pledge(slate, supporter, 1_000)
    client.force_login(supporter)
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 400 and b"Cancel them first" in response.content
    supporter.refresh_from_db()
    assert supporter.is_active and not DeletionRequest.objects.exists()
    assert client.post("/account/delete/", {}).status_code == 400  # unconfirmed


def test_the_best_efforts_request_goes_once_to_itemized_donors_missing_details():
    (slate, _), (a, _, _) = slates_sharing_candidates(slates=2)
    complete, partial, small = UserFactory(), UserFactory(), UserFactory()
    record_capture(money_pledge(slate, complete, 30_000), {a.pk: 30_000})
    record_capture(money_pledge(slate, partial, 30_000), {a.pk: 30_000})
    Donor.objects.filter(user=partial).update(occupation="")  # e.g. left out, then cleared
    record_capture(money_pledge(slate, small, 10_000), {a.pk: 10_000})
    Donor.objects.filter(user=small).update(employer="")
    assert services.request_missing_donor_details() == 1
    assert mail.outbox[-1].to == [partial.email] and "occupation" in mail.outbox[-1].body
    assert DonorInfoRequest.objects.get().missing == ["occupation"]
    assert services.request_missing_donor_details() == 0  # once per cycle


def test_a_donor_completes_their_details_on_their_page(client):
    supporter = UserFactory()
    client.force_login(supporter)
    assert client.get("/account/donor-details/").status_code == 200
    bad = client.post("/account/donor-details/", DETAILS | {"zip_code": "nope"})
    assert bad.status_code == 400 and b"ZIP" in bad.content
    assert not Donor.objects.filter(user=supporter, zip_code="nope").exists()
    assert client.post("/account/donor-details/", DETAILS).status_code == 302
    assert Donor.objects.get(user=supporter).occupation == DETAILS["occupation"]


def test_staff_merge_donors_in_admin_and_every_view_is_logged(client):
    staff = make_staff()
    staff.is_superuser = True
    staff.save()
    one, two = UserFactory(), UserFactory()
    first, second = services.ensure_donor(one), services.ensure_donor(two)
    client.force_login(staff)
    assert client.get("/admin/compliance/donor/").status_code == 200
    assert client.get(f"/admin/compliance/donor/{first.pk}/change/").status_code == 200
    logged = list(DonorDataAccess.objects.order_by("pk").values_list("what", "donor_id"))
    assert logged == [("admin_list", None), ("admin_view", first.pk)]
    response = client.post(
        "/admin/compliance/donor/",
        {"action": "merge_into_oldest", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.merged_into_id == first.pk


def test_only_staff_merge():
    one, two = services.ensure_donor(UserFactory()), services.ensure_donor(UserFactory())
    from compliance.errors import ComplianceError

    with pytest.raises(ComplianceError):
        services.merge_donors(survivor=one, duplicates=[two], actor=UserFactory())
    two.refresh_from_db()
    assert two.merged_into_id is None


def test_the_admin_lists_possible_duplicates_by_name_and_address(client):
    staff = make_staff()
    staff.is_superuser = True
    staff.save()
    same = {"first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Way",
            "zip_code": "97201"}  # fmt: skip
    one, two, other = (services.ensure_donor(UserFactory()) for _ in range(3))
    Donor.objects.filter(pk=one.pk).update(**same)
    Donor.objects.filter(pk=two.pk).update(
        **same | {"first_name": "ADA", "street_1": "12 analytical way."}
    )
    Donor.objects.filter(pk=other.pk).update(**same | {"street_1": "1 Other Road"})
    client.force_login(staff)
    response = client.get("/admin/compliance/donor/?duplicates=yes")
    assert response.status_code == 200
    listed = {donor.pk for donor in response.context["cl"].result_list}
    assert listed == {one.pk, two.pk}
