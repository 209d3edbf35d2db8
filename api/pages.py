"""The settings page where people make and revoke personal access tokens (and, for partner
admins, see their webhooks' delivery log)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import PersonalAccessToken


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    new_token = None
    error = None
    if request.method == "POST":
        try:
            _, new_token = services.create_token(
                user=request.user, name=request.POST.get("name", "")
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
