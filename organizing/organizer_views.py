"""A slate's organizers: invite co-organizers by email, withdraw an invitation, remove an
organizer (or leave), and the invitation's link."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from slate import organizers as slate_organizers
from slate.errors import DomainError
from slate.models import OrganizerInvitation

from . import forms
from .permissions import organizer_slate
from .wizard import show_error


def _organizers_page(request, slate, form, status=200):
    context = {
        "slate": slate,
        "form": form,
        "organizers": slate.organizers.order_by("slateorganizer__added_at", "pk"),
        "invitations": slate.organizer_invitations.filter(accepted_at__isnull=True),
    }
    return render(request, "organizing/organizers.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def organizers(request, slug: str):
    slate = organizer_slate(request, slug)
    form = forms.OrganizerInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = slate_organizers.invite_organizer(
                slate=slate, email=form.cleaned_data["email"], actor=request.user
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"Invitation emailed to {invitation.email}.")
            return redirect("organize:organizers", slug=slate.slug)
    return _organizers_page(request, slate, form, status=400 if form.errors else 200)


@login_required
@require_POST
def cancel_invitation(request, slug: str, invitation_id: int):
    slate = organizer_slate(request, slug)
    invitation = get_object_or_404(
        OrganizerInvitation, pk=invitation_id, slate=slate, accepted_at__isnull=True
    )
    slate_organizers.cancel_organizer_invitation(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect("organize:organizers", slug=slate.slug)


@login_required
@require_POST
def remove(request, slug: str, user_id: int):
    slate = organizer_slate(request, slug)
    person = get_object_or_404(get_user_model(), pk=user_id, organized_slates=slate)
    try:
        slate_organizers.remove_organizer(slate=slate, user=person, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("organize:organizers", slug=slate.slug)
    if person == request.user and not request.user.is_staff:
        messages.success(request, f"You no longer organize {slate}.")
        return redirect("organize:index")
    messages.success(request, f"{person.email} no longer organizes {slate}.")
    return redirect("organize:organizers", slug=slate.slug)


@login_required
@require_http_methods(["GET", "POST"])
def join(request, token: str):
    """The emailed link: GET shows whose invitation it is; POST accepts it."""
    try:
        invitation = slate_organizers.organizer_invitation_for_token(token)
    except DomainError as error:
        return render(request, "organizing/join.html", {"error": error.message}, status=400)
    error = None
    if request.method == "POST":
        try:
            slate_organizers.accept_organizer_invitation(token=token, user=request.user)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, f"You organize {invitation.slate} now.")
            return redirect("organize:index")
    context = {"invitation": invitation, "slate": invitation.slate, "error": error}
    return render(request, "organizing/join.html", context, status=400 if error else 200)
