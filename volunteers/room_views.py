"""The signers' room, the signer's page for what they share there and who their staff are,
and the link that invites staff without an account. Thin: volunteers.room decides who enters
and what is shown; the services write."""

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from candidates import selectors as candidate_selectors
from candidates import services as candidate_services
from candidates.forms import SignerContactForm
from candidates.models import SignerContact
from slate.errors import DomainError
from slate.models import Slate

from . import room, staff_invitations
from .forms import StaffForm
from .models import StaffInvitation


@login_required
@require_GET
def signers_room(request, slug: str):
    """Only the slate's signers and their campaign staff; anyone else is told nothing (404)."""
    slate = get_object_or_404(Slate, slug=slug)
    mine = room.room_candidates(request.user, slate)
    if not mine:
        raise Http404("No such room")
    members = room.members(slate)
    context = {
        "slate": slate,
        "mine": mine,
        "members": members,
        "obligations": room.obligations(slate, members),
        "events": room.events(slate),
    }
    return render(request, "volunteers/room.html", context)


def _show_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def room_settings(request):
    """The candidate's own: what they share in the signers' rooms, and their staff. Their
    staff see the list of rooms only."""
    candidate = candidate_selectors.candidate_for_user(request.user)
    if candidate is None:
        if not room.staff_roles(request.user).exists():
            raise PermissionDenied("Only candidates and their campaign staff have rooms.")
        context = {"candidate": None, "rooms": room.rooms_of(request.user)}
        return render(request, "volunteers/room_settings.html", context)
    contact = SignerContact.objects.filter(candidate=candidate).first()
    initial = (
        {name: getattr(contact, name) for name in SignerContact.SHARED_FIELDS} if contact else {}
    )
    action = request.POST.get("action") if request.method == "POST" else None
    contact_form = SignerContactForm(request.POST if action == "contact" else None, initial=initial)
    # Its own ids: both forms have an "email" field on one page.
    staff_form = StaffForm(request.POST if action == "add_staff" else None, auto_id="staff_%s")
    failed = False
    if action == "contact" and contact_form.is_valid():
        try:
            candidate_services.set_signer_contact(
                candidate=candidate, actor=request.user, **contact_form.cleaned_data
            )
        except DomainError as error:
            _show_error(contact_form, error)
        else:
            messages.success(request, "Saved: the other signers see what you filled in.")
            return redirect("volunteer_hosts:room-settings")
    elif action == "add_staff" and staff_form.is_valid():
        try:
            added = room.add_staff(
                candidate=candidate, actor=request.user, email=staff_form.cleaned_data["email"]
            )
        except DomainError as error:
            _show_error(staff_form, error)
        else:
            if isinstance(added, StaffInvitation):
                messages.success(
                    request,
                    f"{added.email} is invited: we email them a link to sign up (or log in) and "
                    "join your staff; adding them again within a few minutes sends no second "
                    "email. It waits under Invited until they accept.",
                )
            else:
                messages.success(request, f"{added.user.email} is on your staff now.")
            return redirect("volunteer_hosts:room-settings")
    elif action == "remove_staff":
        try:
            room.remove_staff(
                candidate=candidate, actor=request.user, staff_id=request.POST.get("staff_id")
            )
        except (DomainError, ValueError):
            messages.error(request, "That person is not on your staff.")
            failed = True
        else:
            messages.success(request, "Removed from your staff.")
            return redirect("volunteer_hosts:room-settings")
    elif action == "withdraw_invitation":
        try:
            room.withdraw_staff_invitation(
                candidate=candidate,
                actor=request.user,
                invitation_id=request.POST.get("invitation_id"),
            )
        except DomainError as error:
            messages.error(request, error.message)
            failed = True
        else:
            messages.success(request, "Invitation withdrawn: its link no longer works.")
            return redirect("volunteer_hosts:room-settings")
    elif action is not None and action not in ("contact", "add_staff"):
        failed = True
    failed = failed or bool(contact_form.errors or staff_form.errors)
    context = {
        "candidate": candidate,
        "contact_form": contact_form,
        "staff_form": staff_form,
        "staff": room.staff_of(candidate),
        "invitations": staff_invitations.pending(candidate),
        "rooms": room.rooms_of(request.user),
    }
    return render(request, "volunteers/room_settings.html", context, status=400 if failed else 200)


@require_http_methods(["GET", "POST"])
def staff_join(request, token: str):
    """The emailed invitation to a campaign's staff. Signed out: sign up (or log in) with the
    invited address and come back; signed in: POST accepts, then the room pages ask for
    two-factor like any staff member's. A bad, expired, withdrawn or used link says which."""
    try:
        invitation = staff_invitations.invitation_for_token(token)
    except DomainError as error:
        return render(request, "volunteers/staff_join.html", {"error": error.message}, status=400)
    context = {"invitation": invitation}
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
        # Having the link shows the address is theirs: allauth's invitation hook makes a
        # signup with it verified (and fills it in), so no confirmation email comes between.
        get_adapter(request).stash_verified_email(request, invitation.email)
        back = urlencode({"next": request.path})
        context["signup_url"] = f"{reverse('account_signup')}?{back}"
        context["login_url"] = f"{reverse('account_login')}?{back}"
        return render(request, "volunteers/staff_join.html", context)
    context["addressed_to_you"] = staff_invitations.is_addressed_to(invitation, request.user)
    if request.method == "POST":
        try:
            staff_invitations.accept(token=token, user=request.user)
        except DomainError as error:
            context["error"] = error.message
            return render(request, "volunteers/staff_join.html", context, status=400)
        messages.success(
            request, f"You are on {invitation.candidate.full_name}'s campaign staff now."
        )
        return redirect("volunteer_hosts:room-settings")
    return render(request, "volunteers/staff_join.html", context)
