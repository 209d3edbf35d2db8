"""The organizer's side of candidates: invite (a new profile), share the invitation link,
verify whoever claimed it, revoke. Used by the wizard and after publishing alike."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from candidates import invitations as candidate_invitations
from candidates import selectors as candidate_selectors
from candidates import services as candidate_services
from candidates.claim_links import claim_path
from candidates.models import Candidate, Invitation
from slate.errors import DomainError

from . import forms
from .permissions import organizer_slate
from .wizard import STEPS, show_error


def _rows(request, slate) -> list[dict]:
    signed = {
        standing.candidate.pk
        for standing in candidate_selectors.slate_candidate_standings(slate)
        if standing.signed
    }
    invitations = candidate_selectors.slate_invitations(slate)
    return [
        {
            "invitation": invitation,
            "candidate": invitation.candidate,
            "signed": invitation.candidate_id in signed,
            "claim_url": request.build_absolute_uri(claim_path(invitation))
            if invitation.counts_toward_slate and invitation.candidate.user_id is None
            else "",
        }
        for invitation in invitations
    ]


@login_required
@require_http_methods(["GET", "POST"])
def candidates(request, slug: str):
    slate = organizer_slate(request, slug)
    form = forms.CandidateInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = candidate_invitations.invite_new_candidate(
                slate=slate, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request,
                f"{invitation.candidate} is invited. Send them their invitation link below.",
            )
            return redirect("organize:candidates", slug=slate.slug)
    slate.refresh_from_db()
    context = {
        "steps": STEPS,
        "step": "candidates",
        "slate": slate,
        "form": form,
        "rows": _rows(request, slate),
        "changeable": slate.state in ("draft", "open"),
    }
    status = 400 if form.errors else 200
    return render(request, "organizing/wizard/candidates.html", context, status=status)


@login_required
@require_POST
def verify(request, slug: str, candidate_id: int):
    slate = organizer_slate(request, slug)
    candidate = get_object_or_404(Candidate, pk=candidate_id, invitations__slate=slate)
    try:
        candidate_services.verify_candidate(candidate=candidate, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{candidate} is verified and may sign.")
    return redirect("organize:candidates", slug=slate.slug)


@login_required
@require_POST
def email_link(request, slug: str, invitation_id: int):
    slate = organizer_slate(request, slug)
    invitation = get_object_or_404(
        Invitation.objects.select_related("candidate", "slate"), pk=invitation_id, slate=slate
    )
    form = forms.InvitationEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address to send the invitation link to.")
        return redirect("organize:candidates", slug=slate.slug)
    try:
        candidate_invitations.send_invitation_link(
            invitation=invitation, email=form.cleaned_data["email"], actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation link of {invitation.candidate} is on its way.")
    return redirect("organize:candidates", slug=slate.slug)


@login_required
@require_POST
def revoke(request, slug: str, invitation_id: int):
    slate = organizer_slate(request, slug)
    invitation = get_object_or_404(Invitation, pk=invitation_id, slate=slate)
    try:
        candidate_invitations.revoke_invitation(invitation=invitation, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation of {invitation.candidate} is withdrawn.")
    return redirect("organize:candidates", slug=slate.slug)
