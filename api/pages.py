"""The settings page where people make and revoke personal access tokens (and, for partner
admins, see their webhooks' delivery log)."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.mfa import session_second_factor_at
from accounts.middleware import two_factor_redirect
from slate.models import PartnerOrganization
from slate.selectors import is_partner_admin

from . import services, webhooks
from .models import PersonalAccessToken, WebhookDelivery, WebhookEndpoint


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """People whose role requires two-factor make tokens here only from a login that passed
    it (as on the role's pages), so every token they make can act for the role."""
    refused = two_factor_redirect(request)
    if refused is not None:
        return refused
    new_token = None
    error = None
    if request.method == "POST":
        try:
            _, new_token = services.create_token(
                user=request.user,
                name=request.POST.get("name", ""),
                second_factor_at=session_second_factor_at(request),
            )
        except services.ApiError as exc:
            error = exc.message
    context = {
        "tokens": PersonalAccessToken.objects.filter(user=request.user),
        "new_token": new_token,
        "error": error,
    }
    return render(request, "api/tokens.html", context, status=400 if error else 200)


@login_required
@require_POST
def revoke_token(request, pk: int):
    token = PersonalAccessToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404("No such token")
    services.revoke_token(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” is revoked; scripts using it now get 401.")
    return redirect("api:tokens-page")


@login_required
@require_http_methods(["GET", "POST"])
def partner_webhooks(request, slug: str):
    """An organization's webhook endpoints and recent deliveries, for its admins."""
    organization = PartnerOrganization.objects.filter(slug=slug).first()
    if organization is None or not is_partner_admin(request.user, organization):
        raise Http404("No such organization")
    # The partner pages' rule (accounts.middleware), for this page outside their namespace.
    refused = two_factor_redirect(request)
    if refused is not None:
        return refused
    new_endpoint = None
    error = error_field = None
    if request.method == "POST":
        try:
            if request.POST.get("disable"):
                endpoint = _endpoint_of(organization, request.POST["disable"])
                webhooks.disable_endpoint(endpoint=endpoint, actor=request.user)
                messages.success(request, f"Deliveries to {endpoint.url} are stopped.")
                return redirect("api:webhooks-page", slug=slug)
            new_endpoint = webhooks.register_endpoint(
                organization=organization,
                url=request.POST.get("url", ""),
                actor=request.user,
                event_types=request.POST.getlist("event_types"),
            )
        except services.ApiError as exc:
            error, error_field = exc.message, exc.field
    context = {
        "organization": organization,
        "endpoints": organization.webhook_endpoints.all(),
        "deliveries": WebhookDelivery.objects.filter(endpoint__organization=organization)
        .select_related("endpoint")
        .order_by("-created_at", "-id")[:50],
        "event_types": webhooks.EVENT_TYPES,
        "new_endpoint": new_endpoint,
        "error": error,
        "error_field": error_field,
    }
    return render(request, "api/webhooks.html", context, status=400 if error else 200)


def _endpoint_of(organization, endpoint_id: str) -> WebhookEndpoint:
    """The endpoint a Stop button names. Anything else (an unknown id, one that is not a
    number or is too large for the database) is a refused request, not a crash."""
    endpoint = None
    if re.fullmatch(r"[0-9]{1,18}", endpoint_id):
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, organization=organization).first()
    if endpoint is None:
        raise services.ApiError(
            "no_such_endpoint",
            "This organization has no such endpoint; nothing was stopped.",
            field="disable",
        )
    return endpoint
