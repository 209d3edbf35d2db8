"""What the mail provider reports back (django-anymail's tracking webhooks, which check each
call's basic auth and, for providers that sign, its signature, before this runs): a bounce or
a complaint suppresses the address (``slate.mail.suppress``), so nothing more is sent to it;
an unsubscribe made at the provider turns off everything optional, as our own link would.
Temporary failures (deferred) change nothing.

Mailgun signs each call (HMAC of a timestamp and a random token) but anymail checks only the
signature, so a captured call could be posted again at any time. Ours also refuses a call
whose signed timestamp is older than SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS or more than a few
minutes ahead, and one whose token was seen before; tokens are kept for the window, so every
replay is caught by one check or the other. Both answer 406, which tells Mailgun not to
retry, and change nothing."""

import json
import logging
from datetime import UTC, datetime, timedelta

from anymail.exceptions import AnymailConfigurationError
from anymail.signals import EventType, RejectReason, tracking
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import mail
from .models import EmailSuppression

logger = logging.getLogger(__name__)

SUPPRESS = {
    EventType.BOUNCED: EmailSuppression.Reason.BOUNCED,
    EventType.COMPLAINED: EmailSuppression.Reason.COMPLAINED,
}
# A rejection suppresses only when the provider refused the address itself (it bounced or
# complained before, or is not an address); not for a rejection of this one message.
SUPPRESSING_REJECTIONS = {RejectReason.BOUNCED, RejectReason.SPAM, RejectReason.INVALID}


def _soft_bounce(event, esp_name: str) -> bool:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return esp_name == "Postmark" and raw.get("Type") == "SoftBounce"


@receiver(tracking, dispatch_uid="slate.mail_events.delivery_facts")
def delivery_facts(sender, event, esp_name: str, **kwargs) -> None:
    address = (event.recipient or "").strip()
    if not address or "@" not in address:
        return
    reason = SUPPRESS.get(event.event_type)
    if _soft_bounce(event, esp_name):
        reason = None  # the mailbox was full or the server busy: the next one may arrive
    if event.event_type == EventType.REJECTED and event.reject_reason in SUPPRESSING_REJECTIONS:
        reason = EmailSuppression.Reason.REJECTED
    if reason is not None:
        detail = event.description or event.mta_response or ""
        if mail.suppress(address, reason=reason, detail=detail, provider=esp_name):
            logger.info("suppressed %s: %s reported %s", address, esp_name, event.event_type)
    elif event.event_type == EventType.UNSUBSCRIBED:
        mail.unsubscribe(address, category=None, slate_id=None)
    elif event.event_type == EventType.OPENED and event.message_id:
        mail.record_open(str(event.message_id), address, at=event.timestamp)


# --- The webhook endpoints ------------------------------------------------------------------

# Clocks disagree: a timestamp this far ahead of ours is still taken.
MAILGUN_CLOCK_SKEW = timedelta(minutes=5)


class WebhookReplay(Exception):
    """A correctly signed Mailgun call that is too old, from the future, or seen before."""


def _mailgun_signature(request) -> tuple[str, str]:
    """The signed timestamp and token, where anymail's signature check read them."""
    if request.content_type == "application/json":
        block = json.loads(request.body.decode("utf-8"))["signature"]
        return str(block["timestamp"]), str(block["token"])
    return request.POST["timestamp"], request.POST["token"]


class ReplayCheckedMailgunTrackingWebhookView(MailgunTrackingWebhookView):
    """anymail's Mailgun view, refusing stale and replayed calls (after its basic-auth and
    signature checks, so an unsigned call cannot use up a token), in one transaction with
    what the events change."""

    def run_validators(self, request):
        super().run_validators(request)
        timestamp, token = _mailgun_signature(request)
        try:
            signed_at = datetime.fromtimestamp(float(timestamp), tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookReplay("The signed timestamp is not a time.") from exc
        now = datetime.now(tz=UTC)
        max_age = timedelta(seconds=settings.SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS)
        if signed_at < now - max_age:
            raise WebhookReplay("The signature is too old to be taken (a replay?).")
        if signed_at > now + MAILGUN_CLOCK_SKEW:
            raise WebhookReplay("The signature is dated in the future.")
        if not mail.claim_webhook_token(token, expires_at=signed_at + max_age):
            raise WebhookReplay("This signed call was received before (a replay).")

    def post(self, request, *args, **kwargs):
        try:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        except WebhookReplay as exc:
            logger.warning("Mailgun webhook refused: %s", exc)
            # 406: Mailgun's "rejected, do not retry".
            return HttpResponse(str(exc), status=406, content_type="text/plain")


PROVIDERS = {
    "mailgun": ReplayCheckedMailgunTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
}


def _webhook(view_class):
    """anymail's view, answering 404 for a provider this server has no keys for (Mailgun's
    refuses to start without its signing key) and 400 for a body that is not the provider's
    shape, instead of 500s. Its own checks (basic auth, signatures) answer 400 already."""
    view = view_class.as_view()

    @csrf_exempt  # the provider posts with no cookie; basic auth and signatures stand instead
    def webhook(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError:
            return HttpResponse("This mail provider is not set up here.", status=404)
        except (ValueError, KeyError, TypeError, AttributeError):
            return HttpResponseBadRequest("Not a tracking event of this mail provider.")

    return webhook


webhook_patterns = (
    [
        path(f"{name}/tracking/", _webhook(view), name=f"{name}-tracking")
        for name, view in PROVIDERS.items()
    ],
    "anymail",
)
