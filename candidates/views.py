"""The candidate's pages: what waits for them, the agreement, signing and withdrawing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from slate.selectors import PUBLIC_STATES, public_slates, slate_progress

from . import asks, profiles, selectors, services, signatures
from . import invitations as candidate_invitations
from .claim_links import invitation_for_token
from .forms import (
    AskByEmailForm,
    AskForm,
    DeclineForm,
    PublicProfileForm,
    SignAgreementForm,
    WithdrawForm,
)
from .models import Candidate, CandidatePhoto, Invitation


def _invited_slate(candidate, slug: str):
    """A public slate this candidate is invited to; any other is not theirs to sign (404)."""
    return get_object_or_404(
        public_slates(),
        slug=slug,
        invitations__candidate=candidate,
        invitations__status__in=selectors.ACTIVE_INVITATION_STATUSES,
    )


def _candidate(request):
    candidate = selectors.candidate_for_user(request.user)
    if candidate is None:
        raise PermissionDenied("This account has no candidate profile.")
    return candidate


@login_required
def home(request):
    """First answer: how much money and time waits for this candidate if they sign."""
    candidate = _candidate(request)
    invitations = (
        Invitation.objects.filter(
            candidate=candidate, status__in=selectors.ACTIVE_INVITATION_STATUSES
        )
        .select_related("slate")
        .order_by("slate__deadline")
    )
    rows = []
    for invitation in invitations:
        slate = invitation.slate
        standings = selectors.slate_candidate_standings(slate)
        rows.append(
            {
                "slate": slate,
                "progress": slate_progress(slate),
                "signature": selectors.active_signature(candidate, slate),
                "signed_others": [
                    s.candidate for s in standings if s.signed and s.candidate != candidate
                ],
                "required": invitation.is_required,
                "asks": asks.ask_count(slate, candidate),
            }
        )
    return render(request, "candidates/home.html", {"candidate": candidate, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def sign(request, slug: str):
    candidate = _candidate(request)
    slate = _invited_slate(candidate, slug)
    version = selectors.current_agreement_version(slate)
    form = SignAgreementForm(
        request.POST or None,
        initial={"agreement_version_id": version.pk if version else None},
        planks=version.numbered_planks() if version else (),
    )
    if request.method == "POST" and form.is_valid():
        try:
            signatures.sign_agreement(
                candidate=candidate,
                slate=slate,
                agreement_version_id=form.cleaned_data["agreement_version_id"],
                typed_name=form.cleaned_data["typed_name"],
                signer=request.user,
                ip_address=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", ""),
                reservations=form.reservations(),
            )
        except services.CandidateError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            messages.success(request, f"You signed the {slate} agreement.")
            return redirect("candidates:home")
    signature = selectors.active_signature(candidate, slate)
    context = {
        "slate": slate,
        "version": version,
        "form": form,
        "signature": signature,
        "commitments": selectors.signature_commitments(signature) if signature else [],
    }
    return render(request, "candidates/sign.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, slug: str):
    candidate = _candidate(request)
    slate = _invited_slate(candidate, slug)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signatures.withdraw_signature(
                candidate=candidate, slate=slate, signer=request.user,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except services.CandidateError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Your signature on {slate} is withdrawn.")
        return redirect("candidates:home")
    return render(request, "candidates/withdraw.html", {"slate": slate, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def claim(request, token: str):
    """The invitation link: the invited candidate links their account to the profile; an
    organizer then verifies them (organizing.candidate_views)."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "candidates/claim.html", {"invitation": None}, status=404)
    error = None
    if request.method == "POST":
        try:
            services.claim_invitation(invitation=invitation, user=request.user)
        except services.CandidateError as refused:
            error = refused.message
        else:
            messages.success(
                request,
                f"You claimed the profile of {invitation.candidate}. The organizers of "
                f"{invitation.slate} will verify you before you can sign.",
            )
            return redirect("candidates:home")
    context = {
        "invitation": invitation,
        "error": error,
        "mine": invitation.candidate.user_id == request.user.pk,
    }
    return render(request, "candidates/claim.html", context, status=400 if error else 200)


@require_GET
def profile(request, candidate_id: int):
    """The candidate's public page: who they are in their own words, where they stand on each
    slate, and what is waiting for them if they sign."""
    candidate = get_object_or_404(Candidate, pk=candidate_id)
    if not profiles.candidate_visible_to(candidate, request.user):
        raise Http404("No such candidate")
    standings = profiles.slate_standings(candidate, request.user)
    public_standings = [s for s in standings if s.slate.state in PUBLIC_STATES]
    party = f" · {candidate.party}" if candidate.party else ""
    context = {
        "candidate": candidate,
        "photo_url": profiles.photo_url(candidate),
        "standings": standings,
        "mine": candidate.user_id is not None and candidate.user_id == request.user.pk,
        # Link previews: the picture of the first public slate they stand on (a draft seen by
        # its organizer is not what a shared link should show).
        "preview_slate": public_standings[0].slate if public_standings else None,
        "preview_description": candidate.statement or f"{candidate.office_label}{party}",
        "canonical_url": request.build_absolute_uri(
            reverse("candidates:profile", args=[candidate.pk])
        ),
    }
    return render(request, "candidates/profile.html", context)


# Short, so that a new photo shows soon; the URL carries the photo's hash besides.
PHOTO_MAX_AGE = 300


@require_GET
def photo(request, candidate_id: int):
    """The candidate's photo, to whoever may see their page (404 where there is none)."""
    candidate = get_object_or_404(Candidate, pk=candidate_id)
    if not profiles.candidate_visible_to(candidate, request.user):
        raise Http404("No such candidate")
    stored = get_object_or_404(CandidatePhoto, candidate=candidate)
    etag = f'"{stored.sha256}"'
    response = HttpResponse(bytes(stored.jpeg), content_type="image/jpeg")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return get_conditional_response(request, etag=etag, response=response)


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request):
    """The candidate writes their own statement and website (for themself only)."""
    candidate = _candidate(request)
    form = PublicProfileForm(
        request.POST or None,
        request.FILES or None,
        initial={"statement": candidate.statement, "website": candidate.website},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_public_profile(
                candidate=candidate, actor=request.user, **form.cleaned_data
            )
        except services.CandidateError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Your public page is updated.")
            return redirect(candidate.get_absolute_url())
    context = {"candidate": candidate, "form": form, "photo_url": profiles.photo_url(candidate)}
    return render(
        request, "candidates/edit_profile.html", context, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def ask(request, slug: str, candidate_id: int):
    """Ask an invited candidate to sign: one counted ask per supporter, a short message of
    their own, and the campaign's public contact with a call script for going further."""
    slate = get_object_or_404(public_slates(), slug=slug)
    candidate = get_object_or_404(Candidate, pk=candidate_id, invitations__slate=slate)
    signed_in = request.user.is_authenticated
    # Signed in: one click. Otherwise: name and email, counted once the emailed link is followed.
    form = (AskForm if signed_in else AskByEmailForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip_address = request.META.get("REMOTE_ADDR")
        try:
            if signed_in:
                asks.record_ask(
                    slate=slate, candidate=candidate, supporter=request.user,
                    message=form.cleaned_data["message"], ip_address=ip_address,
                )  # fmt: skip
            else:
                asks.request_ask_by_email(
                    slate=slate, candidate=candidate, name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"], message=form.cleaned_data["message"],
                    ip_address=ip_address,
                )  # fmt: skip
        except services.CandidateError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if signed_in:
                messages.success(request, f"Your ask is counted: {candidate} will see it.")
            else:
                messages.success(
                    request,
                    "Check your email: your ask counts once you follow the link we sent "
                    f"to {form.cleaned_data['email']}.",
                )
            return redirect("candidates:ask", slug=slate.slug, candidate_id=candidate.pk)
    context = {
        "slate": slate,
        "candidate": candidate,
        "form": form,
        "refusal": asks.askable_refusal(slate, candidate),
        "asked": asks.has_asked(slate, candidate, request.user),
        "count": asks.ask_count(slate, candidate),
        "recent": asks.public_messages(slate, candidate),
        "progress": slate_progress(slate),
    }
    return render(request, "candidates/ask.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def ask_confirm(request, token: str):
    """The emailed link. GET asks for one click, so a mail scanner that follows links counts
    nobody's ask; POST confirms."""
    try:
        ask_request = asks.ask_request_for_token(token)
    except services.CandidateError as error:
        return render(request, "candidates/ask_link.html", {"error": error.message}, status=400)
    if request.method == "POST":
        try:
            asks.confirm_ask(token=token)
        except services.CandidateError as error:
            context = {"error": error.message, "ask_request": ask_request}
            return render(request, "candidates/ask_link.html", context, status=400)
        messages.success(request, f"Your ask is counted: {ask_request.candidate} will see it.")
        return redirect(
            "candidates:ask", slug=ask_request.slate.slug, candidate_id=ask_request.candidate_id
        )
    return render(request, "candidates/ask_link.html", {"ask_request": ask_request})


@login_required
@require_http_methods(["GET", "POST"])
def decline(request, slug: str):
    """Decline the slate's invitation, in public, with an optional reason."""
    candidate = _candidate(request)
    slate = _invited_slate(candidate, slug)
    invitation = Invitation.objects.get(slate=slate, candidate=candidate)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            candidate_invitations.respond_to_invitation(
                invitation=invitation, user=request.user, accept=False,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except services.CandidateError as error:
            form.add_error("reason" if error.field == "reason" else None, error.message)
        else:
            messages.success(request, f"You declined {slate}. The slate page says so.")
            return redirect(candidate.get_absolute_url())
    context = {"slate": slate, "form": form, "invitation": invitation}
    return render(request, "candidates/decline.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def digest(request):
    """Pause or resume the weekly digest (the candidate's own)."""
    candidate = _candidate(request)
    paused = request.POST.get("paused") == "1"
    services.set_digest_paused(candidate=candidate, actor=request.user, paused=paused)
    messages.success(
        request, "Your weekly digest is paused." if paused else "Your weekly digest is on."
    )
    return redirect("candidates:home")
