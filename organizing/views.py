"""The organizer's slates, dashboard (with its live fragment) and CSV exports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from compliance import services as compliance_services
from compliance.models import DonorDataAccess
from slate import deadlines as slate_deadlines
from slate import selectors as slate_selectors
from slate.errors import DomainError

from . import exports, forms
from .dashboard import organizer_dashboard
from .permissions import organizer_slate
from .wizard import show_error


@login_required
@require_GET
def index(request):
    slates = slate_selectors.organized_slates(request.user)
    return render(request, "organizing/index.html", {"slates": slates})


@login_required
@require_GET
def dashboard(request, slug: str):
    return _render_dashboard(request, slug, "organizing/dashboard.html")


@login_required
@require_GET
def dashboard_live(request, slug: str):
    """Polled by HTMX every few seconds: the same figures, from maintained totals only."""
    return _render_dashboard(request, slug, "organizing/_live.html")


def _render_dashboard(request, slug: str, template: str):
    slate = organizer_slate(request, slug)
    board = organizer_dashboard(slate)
    context = {"slate": slate, "board": board, "chart_data": board.chart_data()}
    return render(request, template, context)


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export_pledges(request, slug: str):
    slate = organizer_slate(request, slug)
    _log_donor_data_access(request, slate, DonorDataAccess.What.PLEDGES_CSV)
    lines = exports.csv_lines(exports.PLEDGE_COLUMNS, exports.pledge_rows(slate.pk))
    return _csv_response(lines, f"{slate.slug}-pledges.csv")


def _log_donor_data_access(request, slate, what: str) -> None:
    """The exports carry donors' names, emails and addresses: every download is audited."""
    compliance_services.record_donor_data_access(
        actor=request.user, what=what, request=request, slate=slate
    )


@login_required
@require_GET
def export_volunteers(request, slug: str):
    slate = organizer_slate(request, slug)
    _log_donor_data_access(request, slate, DonorDataAccess.What.VOLUNTEERS_CSV)
    lines = exports.csv_lines(exports.VOLUNTEER_COLUMNS, exports.volunteer_rows(slate.pk))
    return _csv_response(lines, f"{slate.slug}-volunteers.csv")


@login_required
@require_http_methods(["GET", "POST"])
def extend_deadline(request, slug: str):
    slate = organizer_slate(request, slug)
    form = forms.DeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            extension = slate_deadlines.extend_deadline(
                slate=slate,
                new_deadline=form.cleaned_data["new_deadline"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request,
                f"The deadline is now {extension.new_deadline:%B %-d, %Y %H:%M %Z}; "
                "supporters are being told.",
            )
            return redirect("organize:dashboard", slug=slate.slug)
    context = {
        "slate": slate,
        "form": form,
        "extensions": slate.deadline_extensions.select_related("actor").order_by("-created_at"),
    }
    return render(request, "organizing/deadline.html", context, status=400 if form.errors else 200)
