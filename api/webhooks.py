"""Outbound webhooks for partner organizations: recording events, signing, sending, retrying.

Events are recorded as ``WebhookDelivery`` rows inside the transaction that made the change
(an outbox), one per endpoint of each organization endorsing the slate, and sent after
commit by a Celery task; a failed send is retried with exponential backoff, and a beat job
re-sends any delivery whose retry is due (a lost message delays a delivery, never drops it).

Each request is a JSON POST signed like Stripe's: ``Slate-Signature: t=<unix time>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}.{body}")``. ``verify_signature`` is what a receiver
does (see README "Webhooks").
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
import urllib.parse
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from slate import selectors as slate_selectors
from slate.models import Slate
from slate.queue import enqueue_named_on_commit
from slate.text import clean_text

from . import outbound
from .models import WebhookDelivery, WebhookEndpoint
from .services import ApiError

logger = logging.getLogger(__name__)

EVENT_TYPES = ("pledge.counted", "signature.signed", "signature.withdrawn", "slate.locked",
               "slate.released")  # fmt: skip
SIGNATURE_HEADER = "Slate-Signature"
MAX_ENDPOINTS_PER_ORGANIZATION = 10


# --- Signing ----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_seconds: int = 300) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and is at most ``tolerance_seconds``
    old (a replayed old request fails)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


# --- Endpoints --------------------------------------------------------------------------------


def _is_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def _check_url(url: str) -> str:
    url = clean_text(url, field="url", error=ApiError, max_length=500, required=True)
    parsed = urllib.parse.urlsplit(url)
    allowed_schemes = ("https",) if settings.SLATE_WEBHOOK_REQUIRE_HTTPS else ("https", "http")
    if parsed.scheme not in allowed_schemes or not parsed.hostname:
        raise ApiError(
            "invalid_url",
            "Use an https:// address."
            if settings.SLATE_WEBHOOK_REQUIRE_HTTPS
            else "Use an http:// or https:// address.",
            field="url",
        )
    try:
        parsed.port  # noqa: B018 (reading it checks it is a number up to 65535)
    except ValueError:
        message = "The port must be a number up to 65535."
        raise ApiError("invalid_url", message, field="url") from None
    # A name's addresses are checked at every delivery; an address written out can be now.
    if _is_address(parsed.hostname) and not outbound.address_is_public(parsed.hostname):
        raise ApiError("invalid_url", "Use a public address, not a private one.", field="url")
    return url


@transaction.atomic
def register_endpoint(*, organization, url: str, actor, event_types=()) -> WebhookEndpoint:
    if not slate_selectors.is_partner_admin(actor, organization):
        raise ApiError("forbidden", "Only the organization's admins manage its webhooks.")
    url = _check_url(url)
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ApiError(
            "invalid_event_type", f"Unknown event types: {', '.join(unknown)}.",
            field="event_types",
        )  # fmt: skip
    active = WebhookEndpoint.objects.select_for_update().filter(
        organization=organization, disabled_at__isnull=True
    )
    if len(active) >= MAX_ENDPOINTS_PER_ORGANIZATION:
        raise ApiError(
            "too_many_endpoints",
            f"An organization has at most {MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints.",
            field="url",
        )
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        event_types=sorted(set(event_types)),
        created_by=actor,
    )


@transaction.atomic
def disable_endpoint(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    if not slate_selectors.is_partner_admin(actor, endpoint.organization):
        raise ApiError("forbidden", "Only the organization's admins manage its webhooks.")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.save(update_fields=["disabled_at"])
    return endpoint


# --- Recording events (inside the change's transaction) ---------------------------------------


def slate_has_endpoints(slate_id: int) -> bool:
    """One cheap query per announced event; most slates have no partner webhooks."""
    return WebhookEndpoint.objects.filter(
        organization__endorsements__slate_id=slate_id,
        organization__verified=True,  # an unverified organization hears nothing
        disabled_at__isnull=True,
    ).exists()


def record_event(*, slate_id: int, event_type: str, event_key: str, data: dict) -> int:
    """Create one delivery per active endpoint of the organizations endorsing the slate and
    send each after commit. Returns how many were created (0 if announced before)."""
    endpoints = list(
        WebhookEndpoint.objects.filter(
            organization__endorsements__slate_id=slate_id,
            organization__verified=True,  # an unverified organization hears nothing
            disabled_at__isnull=True,
        ).distinct()
    )
    if not endpoints:
        return 0
    slate_slug = Slate.objects.values_list("slug", flat=True).get(pk=slate_id)
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created": timezone.now().isoformat(),
        "slate": slate_slug,
        "data": data,
    }
    created = 0
    for endpoint in endpoints:
        if endpoint.event_types and event_type not in endpoint.event_types:
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint, event_id=event_id, event_type=event_type,
                    event_key=event_key, payload=payload, next_attempt_at=timezone.now(),
                )  # fmt: skip
        except IntegrityError:
            continue  # this event was recorded already (events are sent at least once)
        enqueue_named_on_commit("api.tasks.deliver_webhook", delivery.pk)
        created += 1
    return created


# --- Sending ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure: 30 s, 1 min, 2 min … capped."""
    base = settings.SLATE_WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def attempt_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """Send a pending delivery once and record the outcome. Returns the delivery if it should
    be tried again later (its ``next_attempt_at`` is set), else None."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint__organization")
            .filter(
                pk=delivery_id,
                status=WebhookDelivery.Status.PENDING,
                # Not before it is due: the retry task and the beat job may both hold it.
                next_attempt_at__lte=timezone.now() + timedelta(seconds=5),
            )
            .first()
        )
        if delivery is None:
            return None  # done, given up, not due, or being sent by another worker now
        endpoint = delivery.endpoint
        if endpoint.disabled_at is not None or not endpoint.organization.verified:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = (
                "endpoint disabled"
                if endpoint.disabled_at is not None
                else "organization not verified"  # staff withdrew its verification
            )
            delivery.save(update_fields=["status", "last_error"])
            return None
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Slate-Webhooks/1",
            SIGNATURE_HEADER: signature_header(endpoint.secret, body),
            "Slate-Event-Id": str(delivery.event_id),
            "Slate-Event-Type": delivery.event_type,
        }
        # The row stays locked while we wait for the receiver: a second worker skips it.
        result = outbound.post(
            endpoint.url, body, headers, deadline_seconds=settings.SLATE_WEBHOOK_DEADLINE_SECONDS
        )
        status_code, error = result.status_code, result.error
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        if result.delivered:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.SLATE_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING:
        logger.info("webhook delivery %s failed (%s); retrying", delivery.pk, error or status_code)
        return delivery
    return None


def due_delivery_ids(*, now=None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
