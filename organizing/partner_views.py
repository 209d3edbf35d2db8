"""Partner organizations' pages (URL namespace ``orgs``): the public organization page, and
for its admins a dashboard with referral links, the widget snippet and aggregate results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_GET, require_http_methods

from slate import partners as slate_partners
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.models import PartnerLogo, PartnerOrganization, Slate
from volunteers.selectors import organization_events

from . import exports, forms
from .exports import csv_lines
from .partners import (
    FIGURE_COLUMNS,
    PLEDGED_COLUMNS,
    endorsable_slates,
    figure_rows,
    partner_dashboard,
    pledged_members,
)
from .permissions import admin_organization
from .wizard import show_error


@require_GET
def index(request):
    """Public: the verified partner organizations; for a signed-in admin, theirs too; and the
    way to register a new one."""
    mine = (
        slate_selectors.administered_organizations(request.user)
        if request.user.is_authenticated
        else PartnerOrganization.objects.none()
    )
    context = {
        "organizations": mine,
        "verified": PartnerOrganization.objects.filter(verified=True).order_by("name"),
    }
    return render(request, "organizing/orgs/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    form = forms.OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = slate_partners.create_partner_organization(
                admin=request.user, **form.cleaned_data
            )
        except DomainError as error:
            show_error(form, error, {"slug": "name"})
        else:
            messages.success(
                request, f"{organization} is registered. Staff verify new organizations."
            )
            return redirect("orgs:dashboard", organization_slug=organization.slug)
    return render(
        request, "organizing/orgs/new.html", {"form": form}, status=400 if form.errors else 200
    )


@require_GET
def detail(request, organization_slug: str):
    """Public: who the organization is and which slates it endorses."""
    organization = get_object_or_404(PartnerOrganization, slug=organization_slug)
    is_admin = slate_selectors.is_partner_admin(request.user, organization)
    endorsements = organization.endorsements.filter(
        slate__state__in=slate_selectors.PUBLIC_STATES
    ).select_related("slate")
    if not (organization.verified or is_admin):  # staff are admins of every organization
        endorsements = endorsements.none()  # not public until staff verify the organization
    context = {
        "organization": organization,
        "endorsements": endorsements,
        "is_admin": is_admin,
        # Link previews: the picture of the first slate it endorses, once that is public
        # (an unverified organization's endorsements are shown to its admins only).
        "preview_slate": endorsements[0].slate if organization.verified and endorsements else None,
        "canonical_url": request.build_absolute_uri(
            reverse("orgs:detail", args=[organization.slug])
        ),
    }
    return render(request, "organizing/orgs/detail.html", context)


def _links(request, organization, slate) -> dict:
    referral = request.build_absolute_uri(
        reverse("slate:referral", args=[organization.slug, slate.slug])
    )
    code_links = {
        code.pk: request.build_absolute_uri(
            reverse("slate:referral-code", args=[organization.slug, slate.slug, code.code])
        )
        for code in organization.codes.all()
    }
    widget = request.build_absolute_uri(
        reverse("slate:widget", args=[slate.slug]) + f"?org={organization.slug}"
    )
    snippet = (
        f'<iframe src="{widget}" title="{slate.name}: progress and pledge button" '
        'width="360" height="260" style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
    return {
        "referral": referral, "widget": widget, "snippet": snippet, "code_links": code_links,
    }  # fmt: skip


@login_required
@require_GET
def dashboard(request, organization_slug: str):
    organization = admin_organization(request, organization_slug)
    board = partner_dashboard(organization)
    rows = []
    for row in board.slates:
        links = _links(request, organization, row.endorsement.slate)
        codes = [(code, counts, links["code_links"][code.pk]) for code, counts in row.codes]
        rows.append({"row": row, "codes": codes, **links})
    context = {
        "organization": organization,
        "board": board,
        "rows": rows,
        "form": forms.EndorseForm(slates=endorsable_slates(organization)),
    }
    return render(request, "organizing/orgs/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def endorse(request, organization_slug: str):
    organization = admin_organization(request, organization_slug)
    form = forms.EndorseForm(request.POST or None, slates=endorsable_slates(organization))
    if request.method == "POST" and form.is_valid():
        slate = get_object_or_404(Slate, slug=form.cleaned_data["slate"])
        try:
            slate_partners.endorse_slate(
                organization=organization, slate=slate, actor=request.user,
                statement=form.cleaned_data["statement"],
            )  # fmt: skip
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"{organization} endorses {slate}.")
            return redirect("orgs:dashboard", organization_slug=organization.slug)
    context = {"organization": organization, "form": form}
    return render(
        request, "organizing/orgs/endorse.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, organization_slug: str, slug: str):
    """GET asks to confirm (a withdrawal is public at once); POST withdraws."""
    organization = admin_organization(request, organization_slug)
    slate = get_object_or_404(Slate, slug=slug, endorsements__organization=organization)
    if request.method == "GET":
        context = {"organization": organization, "slate": slate}
        return render(request, "organizing/orgs/withdraw.html", context)
    try:
        slate_partners.withdraw_endorsement(
            organization=organization, slate=slate, actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{organization} no longer endorses {slate}.")
    return redirect("orgs:dashboard", organization_slug=organization.slug)


@login_required
@require_GET
def pledged_csv(request, organization_slug: str):
    """For the organization's admins: the people its links brought who pledged and agreed to
    let it know, so it stops asking them."""
    organization = admin_organization(request, organization_slug)
    response = StreamingHttpResponse(
        csv_lines(PLEDGED_COLUMNS, pledged_members(organization)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{organization.slug}-pledged.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def codes(request, organization_slug: str):
    """The organization's sub-codes: one per chapter, mailing or event."""
    organization = admin_organization(request, organization_slug)
    form = forms.PartnerCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = slate_partners.create_partner_code(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request, f"Code {code.code} added: its links are on your dashboard, per slate."
            )
            return redirect("orgs:codes", organization_slug=organization.slug)
    context = {"organization": organization, "form": form, "codes": organization.codes.all()}
    return render(
        request, "organizing/orgs/codes.html", context, status=400 if form.errors else 200
    )


@login_required
@require_GET
def export_figures(request, organization_slug: str):
    """The dashboard's figures per slate and per sub-code, as CSV (aggregates only)."""
    organization = admin_organization(request, organization_slug)
    board = partner_dashboard(organization)
    lines = exports.csv_lines(FIGURE_COLUMNS, figure_rows(board))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{organization.slug}-figures.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def logo(request, organization_slug: str):
    organization = admin_organization(request, organization_slug)
    form = forms.LogoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["logo"]
        data = upload.read(slate_partners.LOGO_MAX_BYTES + 1)
        try:
            slate_partners.set_partner_logo(
                organization=organization, actor=request.user, data=data
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "Logo saved.")
            return redirect("orgs:dashboard", organization_slug=organization.slug)
    context = {"organization": organization, "form": form}
    return render(request, "organizing/orgs/logo.html", context, status=400 if form.errors else 200)


LOGO_MAX_AGE = 3600


@require_GET
def logo_png(request, organization_slug: str):
    """The organization's logo (public, like its page)."""
    found = get_object_or_404(PartnerLogo, organization__slug=organization_slug)
    etag = f'"{found.updated_at.timestamp():.0f}"'
    response = HttpResponse(bytes(found.png), content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={LOGO_MAX_AGE}"
    return get_conditional_response(request, etag=etag, response=response)


@require_GET
def slate_page(request, organization_slug: str, slug: str):
    """Public: the organization's own page for a slate it endorses, where its members land
    from its links: its logo and statement, its events first, then the slate."""
    organization = get_object_or_404(PartnerOrganization, slug=organization_slug)
    endorsement = get_object_or_404(
        slate_selectors.public_endorsements_by(organization).select_related("slate"),
        slate__slug=slug,
    )
    slate = endorsement.slate
    context = {
        "organization": organization,
        "endorsement": endorsement,
        "slate": slate,
        "has_logo": PartnerLogo.objects.filter(organization=organization).exists(),
        "progress": slate_selectors.slate_progress(slate),
        "events": organization_events(organization, slate),
        "canonical_url": request.build_absolute_uri(
            reverse("orgs:slate", args=[organization.slug, slate.slug])
        ),
    }
    return render(request, "organizing/orgs/slate.html", context)
