"""Every write the api app makes of its own: personal access tokens, idempotency records and
(see webhooks.py) partner webhook endpoints. Writes to slates, signatures and pledges go
through the owning apps' services; the views call those directly."""

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from slate.errors import DomainError
from slate.text import clean_text

from .models import IdempotencyRecord, PersonalAccessToken

TOKEN_PREFIX = "slt_"  # noqa: S105  (a marker, not a secret)
MAX_ACTIVE_TOKENS = 50
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class ApiError(DomainError):
    """A refused API request; ``status`` overrides the HTTP status the code maps to."""

    def __init__(self, code: str, message: str, *, field: str | None = None, status=None):
        super().__init__(code, message, field=field)
        self.status = status


# --- Personal access tokens -------------------------------------------------------------------


def hash_token(raw_token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 cannot be brute-forced; no salt needed.
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic
def create_token(
    *, user, name: str, second_factor_at: datetime | None = None
) -> tuple[PersonalAccessToken, str]:
    """Returns the stored token and the raw token, which is never stored and shown once.
    ``second_factor_at``: when the login making it passed two-factor (None: it did not)."""
    if not user.is_authenticated:
        raise ApiError("forbidden", "Log in to create a token.")
    name = clean_text(
        name, field="name", error=ApiError, max_length=100, required=True,
        required_message="Name the token after what will use it.",
    )  # fmt: skip
    active = PersonalAccessToken.objects.select_for_update().filter(
        user=user, revoked_at__isnull=True
    )
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise ApiError(
            "too_many_tokens",
            f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.",
            field="name",
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=user, name=name, prefix=raw[:12], token_hash=hash_token(raw),
        second_factor_at=second_factor_at,
    )  # fmt: skip
    return token, raw


@transaction.atomic
def revoke_token(*, token: PersonalAccessToken, actor) -> PersonalAccessToken:
    if not actor.is_authenticated or (actor.pk != token.user_id and not actor.is_staff):
        raise ApiError("forbidden", "You can revoke only your own tokens.")
    token = PersonalAccessToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def touch_token(token: PersonalAccessToken) -> None:
    """Record use, at most once a minute per token, so reads do not all become writes."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- Idempotency ------------------------------------------------------------------------------


def clean_idempotency_key(value: str) -> str:
    if not value or len(value) > MAX_IDEMPOTENCY_KEY_LENGTH or not value.isprintable():
        raise ApiError(
            "invalid_idempotency_key",
            f"An Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters.",
            field="Idempotency-Key",
        )
    if not value.isascii():
        raise ApiError(
            "invalid_idempotency_key", "Use ASCII characters only.", field="Idempotency-Key"
        )
    return value


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    *,
    user,
    key: str,
    endpoint: str,
    payload: Any,
    perform: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run ``perform`` once per (user, endpoint, key); returns (status, body, replayed).

    The record row is inserted before the work and committed with it, so a concurrent request
    with the same key blocks on the unique index until the first commits, then replays its
    answer. If the work raises (a refused request), the record rolls back with it and the key
    may be used again. The same key with a different body is refused with a 422.
    """
    key = clean_idempotency_key(key)
    fingerprint = request_fingerprint(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, endpoint=endpoint, request_hash=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.select_for_update().get(
                user=user, key=key, endpoint=endpoint
            )
            if record.request_hash != fingerprint:
                raise ApiError(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request body.",
                    field="Idempotency-Key",
                    status=422,
                ) from None
            return record.response_status, record.response_body, True
        status, body = perform()
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["response_status", "response_body"])
    return status, body, False


def forget_idempotency_records(*, older_than_hours: int = 48) -> int:
    """Keys are honoured for two days (clients retry within minutes); then they are dropped."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
