"""Two-factor authentication: open to everyone, required for organizers, candidates and
partner-org admins before any page that acts for them (accounts.middleware)."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.cache import cache

from accounts.mfa import mfa_required_roles, totp_code, with_required_roles
from slate.models import PartnerOrganization
from tests.factories import (
    UserFactory,
    current_totp_code,
    make_draft_slate,
    make_open_slate,
    organizer_of,
    slate_candidates,
    with_totp,
)
from volunteers.models import CampaignStaff

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

ACTIVATE = "/accounts/2fa/totp/activate/"
REAUTHENTICATE = "/accounts/2fa/reauthenticate/"
GUARDED = ("/test-organize/", "/test-orgs/", "/candidate/")


def log_in(client, user, code: str | None = None):
    """Log in through allauth's form (not force_login), so reauthentication-guarded pages
    such as two-factor setup see a fresh login."""
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-for-tests"})
    assert response.status_code == 302
    if response["Location"] == "/accounts/2fa/authenticate/":
        cache.clear()
        response = client.post("/accounts/2fa/authenticate/", {"code": code or current_totp_code()})
    return response


def enter_code(client, code: str | None = None):
    """Answer allauth's "enter your code" page for the login that is open."""
    cache.clear()  # allauth refuses a code used twice; tests share one secret
    response = client.post(REAUTHENTICATE, {"code": code or current_totp_code()})
    assert response.status_code == 302, response.content
    return response


def candidate_user_without_totp():
    slate = make_open_slate(candidates=1, min_signatures=1)
    user = slate_candidates(slate)[0].user
    Authenticator.objects.filter(user=user).delete()
    return user


def organizer_without_totp():
    organizer = UserFactory()
    make_draft_slate(organizer=organizer)
    Authenticator.objects.filter(user=organizer).delete()
    return organizer


def partner_admin_without_totp():
    admin = UserFactory()
    organization = PartnerOrganization.objects.create(
        name="Local 12", slug="local-12", kind="union"
    )
    organization.admins.add(admin)
    return admin


@pytest.mark.parametrize(
    "make_user", [candidate_user_without_totp, organizer_without_totp, partner_admin_without_totp]
)
def test_a_role_without_totp_is_sent_to_set_it_up_from_every_acting_page(client, make_user):
    user = make_user()
    client.force_login(user)
    for url in GUARDED:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE, url
        notes = [str(m) for m in get_messages(response.wsgi_request)]
        assert any("two-factor authentication" in note for note in notes), url
    # posting is refused the same way, and acts on nothing
    assert client.post("/test-organize/")["Location"] == ACTIVATE


def test_the_same_role_with_totp_reaches_the_pages(client):
    user = with_totp(partner_admin_without_totp())
    client.force_login(user)
    assert client.get("/test-orgs/").status_code == 200
    assert client.get("/test-organize/").status_code == 200


def test_a_supporter_is_never_asked_for_two_factor(client):
    client.force_login(UserFactory())
    assert client.get("/test-organize/").status_code == 200  # the stand-in checks nothing
    assert client.get("/candidate/").status_code == 403  # the real page's own check
    assert client.get("/pledges/").status_code == 200


def test_anonymous_visitors_pass_to_the_pages_own_login_check(client):
    assert client.get("/candidate/")["Location"].startswith("/accounts/login/")


# Transactional: allauth announces a new authenticator when its transaction commits, inside
# the request as in production (a test transaction would hold it back until after the response).
@pytest.mark.django_db(transaction=True)
def test_setting_up_totp_opens_the_pages(client):
    user = candidate_user_without_totp()
    log_in(client, user)
    assert client.get("/candidate/")["Location"] == ACTIVATE
    # Changing two-factor settings asks for the password again first.
    confirm = client.get(ACTIVATE)
    assert confirm["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(confirm["Location"], {"password": "pw-for-tests"})
    assert response["Location"] == ACTIVATE
    page = client.get(ACTIVATE)
    assert page.status_code == 200, page.get("Location")
    assert b"two-factor authentication before you can use this page" in page.content
    secret = page.context["form"].secret
    wrong = client.post(ACTIVATE, {"code": "000000"})
    assert wrong.status_code == 200 and b"Incorrect code" in wrong.content
    assert not Authenticator.objects.filter(user=user, type="totp").exists()
    # The first code counts as this login's second factor (accounts.receivers): no second one.
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert client.get("/candidate/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_after_setting_up_totp_a_link_leads_back_to_the_page_that_asked(client):
    user = candidate_user_without_totp()
    log_in(client, user)
    assert client.get("/candidate/?tab=asks")["Location"] == ACTIVATE
    confirm = client.get(ACTIVATE)
    client.post(confirm["Location"], {"password": "pw-for-tests"})
    secret = client.get(ACTIVATE).context["form"].secret
    done = client.post(ACTIVATE, {"code": totp_code(secret)}, follow=True)
    page = done.content.decode()
    assert "recovery" in page.lower()  # allauth's recovery codes, to be saved first
    assert 'then <a href="/candidate/?tab=asks">go back to where you were</a>' in page
    # Offered once: the next two-factor page has no such link.
    assert "go back to where you were" not in client.get("/accounts/2fa/").content.decode()


def test_logging_in_with_totp_asks_for_the_code_and_refuses_a_wrong_one(client):
    user = with_totp(UserFactory())
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-for-tests"})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert wrong.status_code == 200 and b"Incorrect code" in wrong.content
    assert "_auth_user_id" not in client.session
    cache.clear()
    right = client.post("/accounts/2fa/authenticate/", {"code": current_totp_code()})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_role_that_requires_two_factor_cannot_turn_it_off(client):
    user = with_totp(organizer_without_totp())
    log_in(client, user)
    client.post("/accounts/reauthenticate/", {"password": "pw-for-tests"})
    response = client.post("/accounts/2fa/totp/deactivate/", {})
    assert response.status_code == 200
    assert Authenticator.objects.filter(user=user, type="totp").exists()


def test_a_supporter_may_turn_it_on_and_off(client):
    user = with_totp(UserFactory())
    log_in(client, user)
    page = client.get("/accounts/security/")
    assert b"<strong>On.</strong>" in page.content
    client.post("/accounts/reauthenticate/", {"password": "pw-for-tests"})
    response = client.post("/accounts/2fa/totp/deactivate/", {})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type="totp").exists()


def test_the_security_page_says_when_two_factor_is_required(client):
    client.force_login(candidate_user_without_totp())
    page = client.get("/accounts/security/")
    assert page.status_code == 200
    assert b"<strong>Off.</strong>" in page.content
    assert b"Required for your account: you act as candidate" in page.content


def test_log_out_stays_reachable_without_totp(client):
    client.force_login(organizer_without_totp())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_known_secret_gives_the_code_an_authenticator_app_shows():
    # RFC 6238 test vector (SHA-1, 8 digits at 59 s is 94287082); 6 digits keep the last six.
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp_code(rfc_secret, at=59) == "287082"
    # The test users' code is the one allauth itself accepts for their stored authenticator,
    # and a code off by one digit is not.
    user = with_totp(UserFactory())
    code = current_totp_code()
    totp = Authenticator.objects.get(user=user, type="totp").wrap()
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not totp.validate_code(wrong)
    cache.clear()
    assert totp.validate_code(code)


def test_the_one_query_form_finds_the_same_people_as_the_per_person_rule():
    """``with_required_roles`` (the demo's two-factor set-up asks it once for ~300 accounts)
    finds exactly the people ``mfa_required_roles`` gives a role: each role alone, and none."""
    slate = make_open_slate(candidates=1, min_signatures=1)
    campaign_staff = UserFactory()
    CampaignStaff.objects.create(candidate=slate_candidates(slate)[0], user=campaign_staff)
    role_holders = {
        organizer_of(slate),
        slate_candidates(slate)[0].user,
        partner_admin_without_totp(),
        campaign_staff,
        UserFactory(is_staff=True),
    }
    supporter = UserFactory()
    users = get_user_model().objects.all()
    found = set(with_required_roles(users))
    assert role_holders <= found and supporter not in found
    assert found == {user for user in users if mfa_required_roles(user)}
    # Only among the users it is given.
    assert set(with_required_roles(users.exclude(pk=supporter.pk).exclude(is_staff=True))) == {
        user for user in found if not user.is_staff
    }


# --- Slate's staff ------------------------------------------------------------------------------


def test_staff_without_totp_are_sent_to_set_it_up_from_the_admin_and_every_acting_page(client):
    """Staff can refund money, merge donors and see every slate's donors: two-factor first,
    in the admin as on the organizer pages (where staff may act for any slate)."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for url in ("/admin/", "/admin/compliance/donor/", *GUARDED):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE, url
    with_totp(staff)  # set up elsewhere: this login has not passed it
    response = client.get("/admin/compliance/donor/")
    assert response["Location"] == REAUTHENTICATE + "?next=%2Fadmin%2Fcompliance%2Fdonor%2F"
    enter_code(client)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/compliance/donor/").status_code == 200


def test_the_admin_login_is_allauths_so_it_asks_for_the_code(client):
    """Django's admin login form would accept a password alone; it sends people to allauth's
    login, which asks for the two-factor code, then back to the admin."""
    staff = with_totp(UserFactory(is_staff=True))
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not client.post(
        "/admin/login/", {"username": staff.username, "password": "pw-for-tests"}
    ).wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session
    log_in(client, staff)
    assert client.get("/admin/").status_code == 200


def test_the_api_refuses_staff_without_totp_where_they_see_donors(client):
    slate = make_open_slate(candidates=1, min_signatures=1)
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    url = f"/api/v1/slates/{slate.slug}/pledges"
    response = client.get(url)
    assert response.status_code == 403
    assert "two-factor" in response.json()["message"]
    with_totp(staff)
    response = client.get(url)  # the login that has been open since has not passed it
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    assert REAUTHENTICATE in response.json()["message"]
    enter_code(client)
    assert client.get(url).status_code == 200
