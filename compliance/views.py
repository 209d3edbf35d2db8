"""Supporters' receipts, contributor details and own data; committees' contribution reports.
Thin: the reads and writes are in receipts, privacy, export and services."""

import json
from io import StringIO

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.validators import slug_re
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.middleware import two_factor_redirect
from candidates.models import Candidate
from slate.models import Slate

from . import export, permissions, privacy, receipts, services
from .errors import ComplianceError
from .forms import DeleteDataForm, DonorDetailsForm
from .models import Donor, DonorDataAccess
from .pdf import receipt_pdf


@login_required
def receipt_list(request):
    return render(
        request, "compliance/receipts.html", {"receipts": receipts.receipts_of(request.user)}
    )


def _own_receipt(request, transaction_id: int):
    found = receipts.receipt(transaction_id, user=request.user)
    if found is None:  # another supporter's receipt: not even its existence is shown
        raise Http404("No such receipt")
    return found


@login_required
def receipt_detail(request, transaction_id: int):
    return render(
        request, "compliance/receipt.html", {"receipt": _own_receipt(request, transaction_id)}
    )


@login_required
def receipt_pdf_view(request, transaction_id: int):
    found = _own_receipt(request, transaction_id)
    response = HttpResponse(receipt_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="slate-receipt-{found.number}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def donor_details(request):
    donor = Donor.objects.filter(user=request.user).first()
    initial = {name: getattr(donor, name) for name in DonorDetailsForm.base_fields} if donor else {}
    form = DonorDetailsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_donor_details(user=request.user, details=form.cleaned_data)
        except ComplianceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Thank you: your contributor details are saved.")
            return redirect("compliance:donor-details")
    return render(
        request, "compliance/donor_details.html", {"form": form},
        status=400 if form.errors else 200,
    )  # fmt: skip


@login_required
def my_data(request):
    body = json.dumps(privacy.supporter_data(request.user), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-slate-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_my_data(request):
    form = DeleteDataForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.delete_personal_data(user=request.user, actor=request.user)
        except ComplianceError as error:
            form.add_error(None, error.message)
        else:
            logout(request)
            messages.success(request, "Your personal data is deleted and your account closed.")
            return redirect("slate:home")
    return render(
        request, "compliance/delete.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def export_index(request):
    return render(
        request, "compliance/exports.html", {"exports": permissions.exports_for(request.user)}
    )


@login_required
def export_schedule_a(request, candidate_id: int):
    candidate = get_object_or_404(Candidate, pk=candidate_id)
    slug = request.GET.get("slate") or ""
    if slug and not slug_re.fullmatch(slug):
        raise BadRequest("The slate= value is not a slate's short name.")
    slate = get_object_or_404(Slate, slug=slug) if slug else None
    if not permissions.can_export(request.user, candidate, slate):
        raise PermissionDenied("Only the committee's treasurer, the slate's organizers or staff.")
    # Donors' names and addresses leave Slate here: two-factor first, for everyone (a
    # treasurer may hold no other role), and in this login.
    refused = two_factor_redirect(
        request,
        required=True,
        reason="Contribution reports carry donors' details: you need two-factor "
        "authentication before downloading one.",
    )
    if refused is not None:
        return refused
    report = export.schedule_a(candidate, slate=slate)
    services.record_donor_data_access(
        actor=request.user, what=DonorDataAccess.What.EXPORT, request=request,
        candidate=candidate, slate=slate,
        detail=f"Schedule A: {len(report.rows)} itemized rows, {len(report.donor_ids)} donors",
    )  # fmt: skip
    out = StringIO()
    export.write_csv(report, out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"schedule-a-{candidate.fec_committee_id or candidate.pk}{'-' + slug if slug else ''}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
