"""The account security page: two-factor status, and whether this account's roles need it."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .mfa import mfa_required_roles


@login_required
@require_GET
def security(request):
    authenticators = {a.type: a for a in Authenticator.objects.filter(user=request.user)}
    context = {
        "totp": authenticators.get(Authenticator.Type.TOTP),
        "recovery_codes": authenticators.get(Authenticator.Type.RECOVERY_CODES),
        "required_for": mfa_required_roles(request.user),
        "email_verified": EmailAddress.objects.filter(user=request.user, verified=True).exists(),
    }
    return render(request, "account/security.html", context)
