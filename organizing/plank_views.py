"""Changing an open slate's planks. The planks are inside the hashed agreement, so saving
publishes a new agreement version and every signer must sign again (their old signature stops
counting), exactly as for a change of the agreement's text."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from candidates import agreements as candidate_agreements
from candidates import selectors as candidate_selectors
from slate.errors import DomainError
from slate.states import SlateState

from . import forms
from .permissions import organizer_slate


@login_required
@require_http_methods(["GET", "POST"])
def revise_planks(request, slug: str):
    slate = organizer_slate(request, slug)
    if slate.state == SlateState.DRAFT:
        return redirect("organize:planks", slug=slate.slug)
    if request.method == "POST":
        # No initial on POST: a row equal to its initial value would count as unchanged and
        # be dropped, which would delete that plank.
        formset = forms.PlankFormSet(request.POST, prefix="planks")
    else:
        initial = [{"title": p.title, "summary": p.summary} for p in slate.planks.all()]
        formset = forms.PlankFormSet(initial=initial, prefix="planks")
    error = None
    if request.method == "POST" and formset.is_valid():
        rows = [
            (row["title"], row.get("summary", ""))
            for row in formset.cleaned_data
            if row.get("title")
        ]
        try:
            version = candidate_agreements.revise_planks(
                slate=slate, actor=request.user, planks=rows
            )
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(
                request,
                f"Agreement version {version.number} is published with the new planks; "
                "signers must sign it again for their signatures to count.",
            )
            return redirect("organize:dashboard", slug=slate.slug)
    failed = request.method == "POST" and (
        error or formset.total_error_count() or formset.non_form_errors()
    )
    context = {
        "slate": slate,
        "formset": formset,
        "error": error,
        "signed": slate.signed_candidate_count,
        "version": candidate_selectors.current_agreement_version(slate),
        "open": slate.state == SlateState.OPEN,
    }
    return render(request, "organizing/revise_planks.html", context, status=400 if failed else 200)
