"""What the mail provider reports back (django-anymail's tracking webhooks, which check each
call's basic auth and, for providers that sign, its signature, before this runs): a bounce or
a complaint suppresses the address (``slate.mail.suppress``), so nothing more is sent to it;
an unsubscribe made at the provider turns off everything optional, as our own link would.
Temporary failures (deferred) change nothing."""

import logging

from anymail.exceptions import AnymailConfigurationError
from anymail.signals import EventType, RejectReason, tracking
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
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

PROVIDERS = {
    "mailgun": MailgunTrackingWebhookView,
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
