"""Links in emails and other messages read outside the site: absolute, on SLATE_PUBLIC_URL."""

from django.conf import settings


def public_url(path: str) -> str:
    """``path`` ("/pledges/7/") on the public address people reach Slate at."""
    return settings.SLATE_PUBLIC_URL.rstrip("/") + path
