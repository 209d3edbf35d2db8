"""Where a candidate's payouts go is changed only by the treasurer (``escrow.manage_payouts``),
and every change is recorded (issue 14, item 8)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from escrow import payouts
from escrow.models import CandidatePayoutAccount, PayoutDestinationChange
from tests.factories import User, make_open_slate, make_staff, slate_candidates

pytestmark = pytest.mark.django_db


def staff_with(*codenames: str) -> User:
    staff = make_staff()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=staff.pk)  # a fresh object: permissions are cached


@pytest.fixture
def account():
    candidate = slate_candidates(make_open_slate(candidates=1, min_signatures=1))[0]
    return CandidatePayoutAccount.objects.create(candidate=candidate, stripe_account_id="acct_old")


def change_url(account) -> str:
    return reverse("admin:escrow_candidatepayoutaccount_change", args=[account.pk])


def test_staff_without_the_payout_permission_cannot_change_a_destination(account, client):
    """Even with the model's own admin permissions: the payout permission is what counts."""
    client.force_login(
        staff_with(
            "view_candidatepayoutaccount", "change_candidatepayoutaccount",
            "add_candidatepayoutaccount", "delete_candidatepayoutaccount",
        )
    )  # fmt: skip
    changed = client.post(
        change_url(account), {"candidate": account.candidate_id, "stripe_account_id": "acct_mine"}
    )
    assert changed.status_code == 403
    other = slate_candidates(make_open_slate(candidates=1, min_signatures=1))[0]
    added = client.post(
        reverse("admin:escrow_candidatepayoutaccount_add"),
        {"candidate": other.pk, "stripe_account_id": "acct_mine"},
    )
    assert added.status_code == 403
    deleted = client.post(
        reverse("admin:escrow_candidatepayoutaccount_delete", args=[account.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert list(CandidatePayoutAccount.objects.values_list("stripe_account_id", flat=True)) == [
        "acct_old"
    ]
    assert not PayoutDestinationChange.objects.exists()
    with pytest.raises(payouts.PayoutError) as refused:
        payouts.set_payout_destination(
            candidate_id=account.candidate_id, stripe_account_id="acct_mine",
            actor=staff_with("change_candidatepayoutaccount"),
        )  # fmt: skip
    assert refused.value.code == "forbidden"


def test_the_treasurer_changes_a_destination_and_the_change_is_recorded(account, client):
    treasurer = staff_with("manage_payouts")
    client.force_login(treasurer)
    assert client.get(change_url(account)).status_code == 200
    response = client.post(
        change_url(account), {"candidate": account.candidate_id, "stripe_account_id": " acct_new "}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.stripe_account_id == "acct_new"
    [change] = PayoutDestinationChange.objects.all()
    assert (change.candidate, change.previous_account_id, change.account_id) == (
        account.candidate, "acct_old", "acct_new",
    )  # fmt: skip
    assert change.changed_by == treasurer

    # Removing the account sends the candidate's next payouts to the treasurer: recorded too.
    response = client.post(
        reverse("admin:escrow_candidatepayoutaccount_delete", args=[account.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not CandidatePayoutAccount.objects.exists()
    latest = PayoutDestinationChange.objects.first()
    assert (latest.previous_account_id, latest.account_id) == ("acct_new", "")
    listing = client.get(reverse("admin:escrow_payoutdestinationchange_changelist"))
    assert listing.status_code == 200 and "acct_new" in listing.content.decode()


def test_a_destination_that_is_not_a_connect_account_is_refused(account, client):
    client.force_login(staff_with("manage_payouts"))
    response = client.post(change_url(account), {"stripe_account_id": "https://evil.example"})
    assert response.status_code == 200
    assert "acct_" in str(response.context["adminform"].form.errors["stripe_account_id"])
    account.refresh_from_db()
    assert account.stripe_account_id == "acct_old"
    with pytest.raises(payouts.PayoutError) as refused:
        payouts.set_payout_destination(
            candidate_id=account.candidate_id, stripe_account_id="acct_bad id",
            actor=staff_with("manage_payouts"),
        )  # fmt: skip
    assert refused.value.field == "stripe_account_id"
    assert not PayoutDestinationChange.objects.exists()
