"""Rate limits on writes: one budget per user and one per client IP.

Reads are not throttled here. A refused write is a 429 with ``Retry-After`` (seconds), in
the API's error shape. Rates come from settings at request time, so they can be tuned (and
tests can lower them) without a restart of the class machinery.
"""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _WriteThrottle(SimpleRateThrottle):
    setting_name = ""

    def __init__(self):
        self.cache = caches["api"]
        super().__init__()

    def get_rate(self) -> str:
        return getattr(settings, self.setting_name)

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        # The rate is read per request (settings may change under override_settings).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class WriteRateByUser(_WriteThrottle):
    scope = "write-user"
    setting_name = "SLATE_API_WRITE_RATE_USER"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # anonymous writes are counted per IP only
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class WriteRateByIP(_WriteThrottle):
    scope = "write-ip"
    setting_name = "SLATE_API_WRITE_RATE_IP"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
