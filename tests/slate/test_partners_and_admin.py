"""Partner organizations, endorsements, public visibility and the staff admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from candidates.models import Invitation
from slate import partners
from slate.errors import SlateError
from slate.models import Endorsement, PartnerOrganization
from tests.factories import UserFactory, make_draft_slate, make_open_slate, with_totp

pytestmark = pytest.mark.django_db


def test_partner_admin_endorses_and_withdraws():
    slate = make_open_slate()
    admin_user = UserFactory()
    org = partners.create_partner_organization(
        name="Teachers Local 4", kind="union", admin=admin_user
    )
    assert org.slug == "teachers-local-4"
    endorsement = partners.endorse_slate(
        organization=org, slate=slate, actor=admin_user, statement="We're in."
    )
    assert endorsement.statement == "We're in."
    # Endorsing again updates the statement rather than duplicating.
    partners.endorse_slate(organization=org, slate=slate, actor=admin_user, statement="All in.")
    assert Endorsement.objects.get().statement == "All in."
    partners.withdraw_endorsement(organization=org, slate=slate, actor=admin_user)
    assert not Endorsement.objects.exists()


def test_only_an_organizations_admins_endorse_for_it():
    slate = make_open_slate()
    org = partners.create_partner_organization(name="Civic Club", kind="civic", admin=UserFactory())
    with pytest.raises(SlateError) as excinfo:
        partners.endorse_slate(organization=org, slate=slate, actor=UserFactory())
    assert excinfo.value.code == "forbidden"
    assert not Endorsement.objects.exists()


def test_a_draft_slate_cannot_be_endorsed():
    admin_user = UserFactory()
    org = partners.create_partner_organization(
        name="Faith Works", kind="religious", admin=admin_user
    )
    with pytest.raises(SlateError):
        partners.endorse_slate(organization=org, slate=make_draft_slate(), actor=admin_user)


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"name": ""}, "name"), ({"kind": "cartel"}, "kind")]
)
def test_bad_organizations_are_refused(kwargs, field):
    arguments = {"name": "Good Org", "kind": "civic", "admin": UserFactory()}
    arguments.update(kwargs)
    with pytest.raises(SlateError) as excinfo:
        partners.create_partner_organization(**arguments)
    assert excinfo.value.field == field
    assert not PartnerOrganization.objects.exists()


def test_only_staff_verify_organizations():
    admin_user = UserFactory()
    org = partners.create_partner_organization(name="Org", kind="other", admin=admin_user)
    with pytest.raises(SlateError):
        partners.verify_partner_organization(organization=org, actor=admin_user)
    partners.verify_partner_organization(organization=org, actor=UserFactory(is_staff=True))
    org.refresh_from_db()
    assert org.verified


def test_home_lists_open_slates_only(client):
    open_slate = make_open_slate()
    draft = make_draft_slate()
    response = client.get("/")
    assert response.status_code == 200
    assert open_slate.name in response.content.decode()
    assert draft.name not in response.content.decode()


def test_draft_pages_are_visible_to_their_organizers_only(client):
    draft = make_draft_slate()
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(UserFactory())
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(draft.organizers.first())
    assert client.get(draft.get_absolute_url()).status_code == 200
    assert client.get(reverse("slate:progress", args=[draft.slug])).status_code == 200


def test_unknown_slate_is_404_not_500(client):
    assert client.get("/slates/no-such-slate/").status_code == 404
    assert client.post("/").status_code == 405


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_admin_shows_every_model_to_staff(client):
    make_open_slate()
    staff = with_totp(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    ours = [
        model
        for label in ("slate", "candidates", "pledges", "escrow")
        for model in apps.get_app_config(label).get_models()
    ]
    assert [m for m in ours if m not in admin.site._registry] == []
    for model in ours:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        instance = model.objects.first()
        if instance is not None:
            change = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[instance.pk]
            )
            assert client.get(change).status_code == 200, change


def test_admin_refuses_non_staff(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:slate_slate_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_verify_an_organization_with_the_admin_action(client):
    real = partners.create_partner_organization(name="Local 1", kind="union", admin=UserFactory())
    impostor = partners.create_partner_organization(
        name="Teamsters", kind="union", admin=UserFactory()
    )
    client.force_login(with_totp(UserFactory(is_staff=True, is_superuser=True)))
    changelist = reverse("admin:slate_partnerorganization_changelist")
    response = client.post(
        changelist, {"action": "verify", "_selected_action": [real.pk]}, follow=True
    )
    assert "Verified 1 organization(s)." in response.content.decode()
    real.refresh_from_db(), impostor.refresh_from_db()
    assert (real.verified, impostor.verified) == (True, False)
    # The flag itself is not a form field: verification goes through the actions.
    change = client.get(reverse("admin:slate_partnerorganization_change", args=[impostor.pk]))
    assert 'name="verified"' not in change.content.decode()
    client.post(changelist, {"action": "withdraw_verification", "_selected_action": [real.pk]})
    real.refresh_from_db()
    assert not real.verified


def test_invitations_are_not_written_in_the_admin(client):
    """Inviting goes through the organizers' pages and the API, which check the slate's state
    and recount its candidate figures; the admin only shows invitations."""
    slate = make_open_slate()
    invitation = Invitation.objects.filter(slate=slate).first()
    client.force_login(with_totp(UserFactory(is_staff=True, is_superuser=True)))
    assert client.get(reverse("admin:candidates_invitation_add")).status_code == 403
    change = reverse("admin:candidates_invitation_change", args=[invitation.pk])
    response = client.post(
        change,
        {"candidate": invitation.candidate_id, "slate": slate.pk, "is_required": "on"},
    )
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.is_required is False
