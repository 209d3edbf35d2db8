"""Personal access tokens (``Authorization: Bearer slt_…``), and the email and password
(HTTP Basic) that may make a first one."""

import contextlib

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.internal.ratelimit import parse_rates
from allauth.mfa.utils import is_mfa_enabled
from django import forms
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import PersonalAccessToken
from .services import hash_token, touch_token


class PersonalAccessTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"bearer", b"token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("That token is not valid.") from None
        token = (
            PersonalAccessToken.objects.select_related("user")
            .filter(token_hash=hash_token(raw))
            .first()
        )
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("That token is not valid or was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is inactive.")
        touch_token(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class TooManyLoginAttempts(exceptions.Throttled):
    retry_message = (
        "Too many failed logins for this account or from this address; try again in "
        "{seconds} seconds."
    )


class PasswordForTokenAuthentication(authentication.BasicAuthentication):
    """Email and password, accepted only to make a token (``POST /api/v1/tokens``).

    Every try goes through allauth's adapter, so it spends the same login-failure budget as
    the login form (``ACCOUNT_RATE_LIMITS["login_failed"]``: per client address and per
    account), and over the budget the answer is 429 whatever the password. An account with
    two-factor on (or inactive) may not make a token with a password alone; its right password
    gets the same 401 as a wrong one and is counted as a failure like one, so neither the
    answer nor the remaining budget tells a guesser that the password was right.
    """

    refused = (
        "Email and password do not match an account that may make tokens this way. Accounts "
        "with two-factor authentication make tokens at /api/tokens/, logged in with their code."
    )

    def authenticate_credentials(self, userid, password, request=None):
        http_request = getattr(request, "_request", request)
        adapter = get_account_adapter(http_request)
        credentials = {"email": userid, "password": password}
        try:
            user = adapter.authenticate(http_request, **credentials)
        except forms.ValidationError:  # allauth's "too_many_login_attempts"
            raise TooManyLoginAttempts(wait=_login_failure_window_seconds()) from None
        if user is None:
            raise exceptions.AuthenticationFailed(self.refused)
        if not user.is_active or is_mfa_enabled(user):
            # allauth took back this try's use of the budget because the password was right;
            # spend it again, as a wrong password would have.
            with contextlib.suppress(forms.ValidationError):
                adapter.pre_authenticate(http_request, **credentials)
            adapter.authentication_failed(http_request, **credentials)
            raise exceptions.AuthenticationFailed(self.refused)
        return user, None


def _login_failure_window_seconds() -> int:
    rates = parse_rates(account_settings.RATE_LIMITS.get("login_failed"))
    return int(max((rate.duration for rate in rates), default=60))


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PersonalAccessTokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token from /api/tokens/ (shown once when made).",
        }


class PasswordForTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PasswordForTokenAuthentication"
    name = "emailAndPassword"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Email and password, only to make a token, and only for accounts "
            "without two-factor. Failed tries share the login form's limits (429).",
        }
