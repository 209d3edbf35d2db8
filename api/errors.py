"""One JSON error shape for every API answer that is not a success:

    {"code": "invalid", "message": "Some fields are not valid.", "fields": {"amount_cents": ["…"]}}

``code`` is stable for programs, ``message`` is for people, ``fields`` maps a request field
(or a header, such as ``Idempotency-Key``) to its messages and is empty when no field is at
fault. The services' domain errors, DRF's errors and Django's 404/403 all come out this way.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from escrow.stripe_gateway import GatewayError
from slate.errors import DomainError

from .permissions import TwoFactorRequired

logger = logging.getLogger(__name__)

STATUS_BY_DOMAIN_CODE = {
    "forbidden": status.HTTP_403_FORBIDDEN,
    "not_invited": status.HTTP_403_FORBIDDEN,
    "unknown_slate": status.HTTP_404_NOT_FOUND,
}

THROTTLED_WRITES = "Too many writes; try again in {seconds} seconds."

CODE_BY_EXCEPTION = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (TwoFactorRequired, "two_factor_required"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.ValidationError, "invalid"),
]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _validation_fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _domain_response(exc: DomainError) -> Response:
    code = exc.code
    status_code = getattr(exc, "status", None) or STATUS_BY_DOMAIN_CODE.get(code, 400)
    fields = {exc.field: [exc.message]} if exc.field else {}
    return Response(error_body(code, exc.message, fields), status=status_code)


def exception_handler(exc, context) -> Response:
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, GatewayError):
        logger.warning("payment provider refused or unreachable: %s", exc)
        response = Response(
            error_body(
                "payment_provider_unavailable",
                "Card payments are unavailable right now. Please try again soon.",
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "30"
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's handler logs it and answers 500
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    code = next((c for cls, c in CODE_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(code, "Some fields are not valid.", _validation_fields(exc.detail))
    else:
        message = exc.detail if isinstance(exc.detail, str) else " ".join(_flatten(exc.detail))
        if isinstance(exc, exceptions.Throttled):
            template = getattr(exc, "retry_message", THROTTLED_WRITES)
            message = template.format(seconds=headers["Retry-After"])
        body = error_body(code, str(message))
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # it changes nothing; a CSRF 403 would hide the 404
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any /api/ address that matches no endpoint."""
    return JsonResponse(
        error_body("not_found", "There is no such API endpoint."), status=status.HTTP_404_NOT_FOUND
    )
