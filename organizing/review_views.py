"""Staff's review queue: a new organizer's first slate waits here before it goes public."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from slate import lifecycle as slate_lifecycle
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.models import Slate

from . import forms
from .wizard import preview_context, show_error


def _require_staff(request) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only Slate's staff review slates.")


@login_required
@require_GET
def queue(request):
    _require_staff(request)
    slates = slate_selectors.review_queue().prefetch_related("organizers")
    return render(request, "organizing/review_queue.html", {"slates": slates})


def _review_page(request, slate, form, errors=(), status=200):
    context = {**preview_context(slate, errors), "form": form}
    return render(request, "organizing/review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review(request, slug: str):
    """GET shows the slate as supporters would see it; POST sends it back with a reason."""
    _require_staff(request)
    slate = get_object_or_404(Slate, slug=slug)
    form = forms.RefuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            slate_lifecycle.refuse_slate(
                slate=slate, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"{slate} went back to its organizers with your reason.")
            return redirect("organize:review-queue")
    return _review_page(request, slate, form, status=400 if form.errors else 200)


@login_required
@require_POST
def approve(request, slug: str):
    _require_staff(request)
    slate = get_object_or_404(Slate, slug=slug)
    try:
        slate_lifecycle.approve_slate(slate=slate, actor=request.user)
    except DomainError as error:
        slate.refresh_from_db()
        return _review_page(request, slate, forms.RefuseForm(), [error.message], status=400)
    messages.success(request, f"{slate} is public now.")
    return redirect("organize:review-queue")
