"""Slate's mail provider backends: django-anymail's Mailgun, Postmark and SendGrid backends,
sending through a session that goes only where it was checked to go.

anymail posts with a plain ``requests`` session, which follows redirects (up to 30, to any
host, carrying the provider's API key in the body or headers of a 307/308), takes proxies,
.netrc credentials and CA bundles from the environment, and waits 30 s per socket operation.
The session here:

- connects only to the configured API URL's scheme, host and port (``ANYMAIL_<ESP>_API_URL``
  or anymail's default, the provider's own), over https; a request for anything else is
  refused before any connection (anymail builds the URL by joining an endpoint to the API
  URL, and a sender domain or endpoint that changes the host must not move the key there);
- never follows a redirect: a 3xx is a failed send (``AnymailAPIError``), logged;
- ignores the environment (``trust_env`` off: no proxy, no .netrc, no CA bundle override);
- waits at most ``EMAIL_TIMEOUT`` seconds to connect and for each read, as the SMTP backend
  does (sends happen under the send-once row lock in ``slate.mail``).

Set ``EMAIL_BACKEND`` to ``slate.mail_transport.MailgunBackend`` (or ``PostmarkBackend``,
``SendGridBackend``); production refuses anymail's own backends (slate/settings.py).
Plain http is refused too, except to hosts named in ``SLATE_MAIL_API_HTTP_HOSTS`` (the tests'
local stand-in for the provider; production refuses to start with any).
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from anymail.backends.mailgun import EmailBackend as AnymailMailgunBackend
from anymail.backends.postmark import EmailBackend as AnymailPostmarkBackend
from anymail.backends.sendgrid import EmailBackend as AnymailSendGridBackend
from anymail.exceptions import AnymailConfigurationError, AnymailRequestsAPIError
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> "Origin | None":
        """The scheme, host and port ``url`` would connect to, or None if it names none."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a port that is not a number or out of range
            return None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme])

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


class DestinationRefused(requests.exceptions.InvalidURL):
    """A request for somewhere other than the provider's configured API origin. A requests
    exception, so anymail reports it as the failed send it is (AnymailRequestsAPIError)."""


class PinnedSession(requests.Session):
    """A session that sends only to ``origin``, follows no redirect, takes nothing from the
    environment and waits at most ``timeout`` seconds per connect and read."""

    def __init__(self, *, origin: Origin, timeout: float):
        super().__init__()
        self.origin = origin
        self.timeout = timeout
        self.trust_env = False

    def send(self, request, **kwargs):
        # Every request passes here (Session.request prepares, then sends), so nothing anymail
        # builds can reach another origin; redirects would be sent from here too, and are off.
        destination = Origin.of(request.url)
        if destination != self.origin:
            logger.warning(
                "mail provider request to %s refused: only %s is allowed",
                destination or request.url,
                self.origin,
            )
            raise DestinationRefused(
                f"refused to connect to {destination or 'an invalid URL'}: the mail provider's "
                f"API is {self.origin}"
            )
        kwargs["allow_redirects"] = False
        kwargs["proxies"] = {}
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)

    def get_redirect_target(self, response):
        # No response is a redirect to this session: nothing is followed, nor prepared to be
        # (requests prepares the next request even with allow_redirects off).
        return None


def allowed_http_hosts() -> set[str]:
    return {host.lower() for host in settings.SLATE_MAIL_API_HTTP_HOSTS}


class PinnedRequestsMixin:
    """Put before an anymail requests backend: its session is a PinnedSession for the
    backend's configured API URL, and a 3xx answer is a failed send."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        origin = Origin.of(self.api_url)
        if origin is None or (origin.scheme != "https" and origin.host not in allowed_http_hosts()):
            raise AnymailConfigurationError(
                f"{self.esp_name} API URL {self.api_url!r} is refused: Slate talks to its mail "
                "provider over https only"
            )
        self.api_origin = origin
        # Anymail's own timeout setting may only shorten ours.
        requested = self.timeout if isinstance(self.timeout, int | float) else None
        self.timeout = min(settings.EMAIL_TIMEOUT, requested or settings.EMAIL_TIMEOUT)

    def create_session(self):
        session = PinnedSession(origin=self.api_origin, timeout=self.timeout)
        # anymail's User-Agent and debug hook, set on the session it would have made.
        plain = super().create_session()
        session.headers.update(plain.headers)
        session.hooks = plain.hooks
        plain.close()
        return session

    def raise_for_status(self, response, payload, message):
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")
            logger.warning(
                "%s answered HTTP %s (to %r): not followed, the email was not sent",
                self.esp_name,
                response.status_code,
                location[:200],
            )
            raise AnymailRequestsAPIError(
                f"{self.esp_name} answered HTTP {response.status_code} (a redirect to "
                f"{location[:200]!r}): redirects are not followed, so the email was not sent",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )
        super().raise_for_status(response, payload, message)


class MailgunBackend(PinnedRequestsMixin, AnymailMailgunBackend):
    pass


class PostmarkBackend(PinnedRequestsMixin, AnymailPostmarkBackend):
    pass


class SendGridBackend(PinnedRequestsMixin, AnymailSendGridBackend):
    pass
