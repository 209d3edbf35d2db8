"""Sign on in one form: name, email and ZIP, confirmed by an emailed link; no password."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from pledges import signons
from pledges.models import Pledge, SignOnRequest
from pledges.states import PledgeKind, PledgeState
from slate.selectors import slate_breakdown, slate_counts
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db

FORM = {"name": "Jane Q. Doe", "email": "Jane.Doe@Example.org", "zip_code": "14604"}


@pytest.fixture
def slate():
    return make_open_slate(candidates=3, min_signatures=2)


def link_in(message) -> str:
    """The path of the confirmation link in an email."""
    return re.search(r"https?://[^/\s]+(/sign-on/confirm/\S+/)", message.body).group(1)


def sign_ons(slate) -> int:
    return slate_counts(slate.pk).signon_count


def test_anonymous_sign_on_button_leads_to_the_form_not_a_405(slate):
    client = Client()
    page = client.get(slate.get_absolute_url()).content.decode()
    assert f'href="/slates/{slate.slug}/sign-on/"' in page
    form = client.get(f"/slates/{slate.slug}/sign-on/")
    assert form.status_code == 200
    for field in ("name", "email", "zip_code", "on_public_roll"):
        assert f'name="{field}"' in form.content.decode()


def test_the_form_emails_a_link_and_counts_nothing_until_it_is_followed(
    slate, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/slates/{slate.slug}/sign-on/", FORM)
    assert response.status_code == 302
    assert response["Location"] == f"/slates/{slate.slug}/sign-on/sent/"
    assert [m.to for m in mail.outbox] == [["jane.doe@example.org"]]
    assert sign_ons(slate) == 0
    assert not Pledge.objects.filter(slate=slate).exists()

    link = link_in(mail.outbox[0])
    assert client.get(link).status_code == 200  # a page with a button: a mail scanner's GET
    assert sign_ons(slate) == 0  # counts nothing

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == f"/slates/{slate.slug}/thanks/"
    pledge = Pledge.objects.get(slate=slate)
    assert (pledge.kind, pledge.state, pledge.supporter_state) == ("signon", "committed", "NY")
    assert pledge.supporter.email == "jane.doe@example.org"
    assert not pledge.supporter.has_usable_password()
    assert EmailAddress.objects.get(user=pledge.supporter).verified
    assert sign_ons(slate) == 1
    by_state = dict(slate_breakdown(slate.pk, "state"))
    assert by_state["NY"].pledge_count == 1  # the state came from the ZIP

    thanks = client.get(response["Location"]).content.decode()
    assert "Your name is on" in thanks and "Bring one more person" in thanks


def test_the_same_address_again_is_the_same_sign_on(slate, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/slates/{slate.slug}/sign-on/", FORM)
        # a second submission at once sends no second email (the inbox is not a target)
        again = client.post(
            f"/slates/{slate.slug}/sign-on/", {**FORM, "email": "JANE.DOE@example.org"}
        )
    assert again.status_code == 302
    assert SignOnRequest.objects.filter(slate=slate).count() == 1
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0])
    client.post(link)
    client.post(link)  # followed twice
    Client().post(link)  # and from another browser
    assert Pledge.objects.filter(slate=slate, kind=PledgeKind.SIGNON).count() == 1
    assert sign_ons(slate) == 1
    # after confirming, the form again is no error page, and the link still works
    with django_capture_on_commit_callbacks(execute=True):
        SignOnRequest.objects.update(link_sent_at=timezone.now() - timedelta(hours=1))
        response = client.post(f"/slates/{slate.slug}/sign-on/", FORM)
    assert response.status_code == 302
    assert len(mail.outbox) == 1  # confirmed already: no new link is sent
    assert sign_ons(slate) == 1


def test_an_existing_account_with_that_address_gets_the_sign_on(
    slate, django_capture_on_commit_callbacks
):
    member = UserFactory(email="jane.doe@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/slates/{slate.slug}/sign-on/", FORM)
    Client().post(link_in(mail.outbox[0]))
    pledge = Pledge.objects.get(slate=slate)
    assert pledge.supporter == member
    client = Client()
    client.force_login(member)
    assert "You signed on" in client.get(slate.get_absolute_url()).content.decode()
    assert f"/pledges/{pledge.pk}/" in client.get("/pledges/").content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"zip_code": "1460"}, "zip_code", "5-digit ZIP code"),
        ({"zip_code": "00000"}, "zip_code", "not one we know"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(slate, change, field, message):
    response = Client().post(f"/slates/{slate.slug}/sign-on/", {**FORM, **change})
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert not SignOnRequest.objects.exists()
    assert mail.outbox == []


def test_a_forged_or_expired_link_changes_nothing(slate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/slates/{slate.slug}/sign-on/", FORM)
    link = link_in(mail.outbox[0])
    forged = link.replace("/confirm/", "/confirm/x")
    response = Client().post(forged)
    assert response.status_code == 400 and b"not one we sent" in response.content
    request = SignOnRequest.objects.get()
    expired = signing.dumps({"request": request.pk, "email": request.email}, salt=signons.LINK_SALT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signons, "LINK_MAX_AGE", timedelta(seconds=-1))
        response = Client().post(f"/sign-on/confirm/{expired}/")
    assert response.status_code == 400 and b"expired" in response.content
    assert not Pledge.objects.exists()


def test_a_closed_slate_takes_no_sign_on(slate):
    slate.deadline = timezone.now() - timedelta(days=1)
    slate.save(update_fields=["deadline"])
    response = Client().post(f"/slates/{slate.slug}/sign-on/", FORM)
    assert response.status_code in (400, 404)
    assert not SignOnRequest.objects.exists()


def test_the_public_roll_shows_only_those_who_opted_in(slate, django_capture_on_commit_callbacks):
    people = [
        ({**FORM, "on_public_roll": "on"}, True),
        ({"name": "Hidden Person", "email": "hidden@example.org", "zip_code": "94110"}, False),
        (
            {
                "name": "Ann Lee",
                "email": "ann@example.org",
                "zip_code": "94110",
                "on_public_roll": "on",
            },
            True,
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for form, _ in people:
            Client().post(f"/slates/{slate.slug}/sign-on/", form)
    for message in mail.outbox:
        Client().post(link_in(message))
    page = Client().get(slate.get_absolute_url()).content.decode()
    roll = page[page.index('data-testid="public-roll"') :]
    roll = roll[: roll.index("</ul>")]
    assert "Jane D." in roll and "Ann L." in roll
    assert "Hidden" not in page and "Doe" not in page and "hidden@" not in page
    assert "CA 1" in page and "NY 1" in page  # the counts by state, of listed names only
    assert sign_ons(slate) == 3


def test_signed_in_sign_on_is_one_click_and_the_button_says_so(slate):
    supporter = UserFactory(first_name="Rosa", last_name="Parks")
    client = Client()
    client.force_login(supporter)
    response = client.post(
        f"/slates/{slate.slug}/sign-on/", {"supporter_state": "AL", "on_public_roll": "on"}
    )
    assert response["Location"] == f"/slates/{slate.slug}/thanks/"
    pledge = Pledge.objects.get(supporter=supporter)
    assert (pledge.public_name, pledge.supporter_state) == ("Rosa P.", "AL")
    assert pledge.state == PledgeState.COMMITTED
    page = client.get(slate.get_absolute_url()).content.decode()
    assert 'data-testid="signed-on"' in page
    # the form again goes straight to the thank-you page
    assert (
        client.get(f"/slates/{slate.slug}/sign-on/")["Location"] == f"/slates/{slate.slug}/thanks/"
    )


def test_the_link_task_twice_sends_two_links_to_one_sign_on(slate):
    """The task may run twice (a retry after a lost acknowledgement): a second email with the
    same kind of link is harmless, and both links lead to the one sign-on."""
    request = signons.request_sign_on(slate=slate, **{k: v for k, v in FORM.items()})
    assert signons.send_sign_on_link(request_id=request.pk)
    assert signons.send_sign_on_link(request_id=request.pk)
    for message in mail.outbox:
        Client().post(link_in(message))
    assert sign_ons(slate) == 1
    assert not signons.send_sign_on_link(request_id=request.pk)  # confirmed: no more links


def test_deleting_ones_data_takes_them_off_the_roll_and_forgets_the_email_sign_on(
    slate, django_capture_on_commit_callbacks
):
    from compliance.privacy import delete_personal_data

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/slates/{slate.slug}/sign-on/", {**FORM, "on_public_roll": "on"})
    Client().post(link_in(mail.outbox[0]))
    pledge = Pledge.objects.get()
    assert pledge.public_name == "Jane D."
    with django_capture_on_commit_callbacks(execute=True):
        delete_personal_data(user=pledge.supporter, actor=pledge.supporter)
    pledge.refresh_from_db()
    assert pledge.public_name == "" and not SignOnRequest.objects.exists()
    assert "Jane" not in Client().get(slate.get_absolute_url()).content.decode()
    assert sign_ons(slate) == 1  # still counted, no longer named
