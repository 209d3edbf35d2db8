"""Public pages under a surge: the slate page, its widget and its progress fragment, served to
anonymous visitors from a short-lived cache.

On launch night a thousand people open the same slate page; each render reads the slate, its
candidates, planks, tallies, endorsements, the public roll and the growth chart. Those pages
are the same for every visitor who is not logged in, so one render is kept for
``SLATE_PUBLIC_PAGE_CACHE_SECONDS`` (a few seconds: the figures on it are at most that old) in
the default cache (Redis in production, shared by every web process) and served to the others
without touching the database.

Only what is the same for everyone is ever kept or served:

* the request is a GET from a visitor with no session at all (no session cookie: a logged-in
  user, or an anonymous visitor whom the site remembers anything about, such as a share link
  or a sign-on, always gets a fresh page) and no pending message;
* nothing in the URL that the page would remember for the visitor (``?ref=``, which the view
  writes into the session), and only the query parameters the page reads are part of the key;
* the fresh page is kept only if it is a 200 that set no cookie, did not use a CSRF token
  (a form on the page would carry the visitor's token), and did not change the session.

The key holds the host and scheme (the page prints absolute links), the view and the slug.

A surge must not turn every expiry into a thousand renders at once: one request renders while
the others are served the page it replaces (kept for twice the lifetime, so nothing is ever
older than that), and when there is no page yet the others wait a moment for the first render
rather than all rendering it.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.safestring import mark_safe

# Response headers a view sets that are part of the page (the rest are added per request by
# the middleware: cookies, Vary, the CSP, X-Frame-Options).
KEPT_HEADERS = ("Content-Type", "Content-Language")
# Says whether the page came from the cache (tests and the load test read it).
CACHE_HEADER = "X-Slate-Page-Cache"
# While one request renders a missing page, the others look for it this long before rendering
# it themselves; a render that takes longer than RENDER_LOCK_SECONDS lets another one start.
WAIT_FOR_RENDER_SECONDS = 1.0
WAIT_STEP_SECONDS = 0.05
RENDER_LOCK_SECONDS = 10


def _cache_seconds() -> int:
    return settings.SLATE_PUBLIC_PAGE_CACHE_SECONDS


def _anonymous_and_unremembered(request) -> bool:
    if request.method != "GET" or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return False
    return len(get_messages(request)) == 0


def _key(request, view_name: str, slug: str, params: tuple[str, ...]) -> str:
    varying = [f"{name}={request.GET.get(name, '')}" for name in params]
    raw = "\n".join([request.scheme, request.get_host(), view_name, slug, *varying])
    return "slate-page:" + hashlib.sha256(raw.encode()).hexdigest()


def _keepable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(getattr(request, "session", None), "modified", False)
    )


def _may_render(key: str) -> bool:
    """Whether this request is the one to render the page (the others are served the old one
    or wait for the new one)."""
    return cache.add(key + ":render", 1, RENDER_LOCK_SECONDS)


def _wait_for_render(key: str):
    deadline = time.monotonic() + WAIT_FOR_RENDER_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP_SECONDS)
        kept = cache.get(key)
        if kept is not None:
            return kept
    return None


def _from_cache(kept, answer: str) -> HttpResponse:
    _, status, headers, content = kept
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response[CACHE_HEADER] = answer
    return response


def public_page_cache(*, params: tuple[str, ...] = (), bypass: tuple[str, ...] = ()):
    """Serve anonymous GETs of ``view(request, slug)`` from the cache (see the module doc).

    ``params``: query parameters the page reads (part of the key); ``bypass``: parameters
    whose presence means the view must run (it remembers them for the visitor). Put it
    innermost, under decorators that mark the response (X-Frame-Options, CSP), so that a page
    from the cache is marked the same way as a fresh one."""

    def decorator(view):
        view_name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapped(request, slug: str, *args, **kwargs):
            seconds = _cache_seconds()
            if (
                seconds <= 0
                or any(name in request.GET for name in bypass)
                or not _anonymous_and_unremembered(request)
            ):
                return view(request, slug, *args, **kwargs)
            key = _key(request, view_name, slug, params)
            kept = cache.get(key)
            fresh = kept is not None and kept[0] > time.time()
            renders = not fresh and _may_render(key)
            if kept is not None and not renders:
                return _from_cache(kept, "hit" if fresh else "stale")
            if kept is None and not renders:
                kept = _wait_for_render(key)
                if kept is not None:
                    return _from_cache(kept, "hit")
            try:
                response = view(request, slug, *args, **kwargs)
                if _keepable(request, response):
                    headers = [(name, response[name]) for name in KEPT_HEADERS if name in response]
                    page = (time.time() + seconds, response.status_code, headers, response.content)
                    cache.set(key, page, 2 * seconds)
                    response[CACHE_HEADER] = "miss"
            finally:
                if renders:
                    cache.delete(key + ":render")
            return response

        return wrapped

    return decorator


# --- Shared parts of a page for logged-in visitors ----------------------------------------------
# A logged-in supporter cannot be served the anonymous page (the header has their name and a
# CSRF token, the buttons say whether they signed on), but most of the slate page is the same
# for them as for anyone. Those parts are rendered without the request (so nothing of the
# visitor can get into them: no user, no CSRF token, no messages) and kept in the same cache
# for the same few seconds; the view puts them into the visitor's own page.


class SiteAddress:
    """All a shared part may know of the request: the site's address, for absolute links to
    a given path. Never the visitor's own URL (its ``?ref=`` code would be kept and served to
    everyone), so a location is required."""

    def __init__(self, request) -> None:
        self._build_absolute_uri = request.build_absolute_uri

    def build_absolute_uri(self, location: str) -> str:
        if not location or not location.startswith("/"):
            raise ValueError("a shared part links to a site path, never to the visitor's URL")
        return self._build_absolute_uri(location)


def shared_parts(request, name: str, slug: str, render, *, keep: bool = True) -> dict[str, str]:
    """``render()``'s parts (a dict of HTML strings, the same for every visitor), kept for
    ``SLATE_PUBLIC_PAGE_CACHE_SECONDS`` per host, scheme, ``name`` and ``slug``; rendered
    fresh when the cache is off or ``keep`` is false. A burst after an expiry renders a few
    times at most (each render takes milliseconds), so no render lock here."""
    seconds = _cache_seconds()
    if seconds <= 0 or not keep:
        parts = render()
    else:
        key = _key(request, f"parts:{name}", slug, ())
        parts = cache.get(key)
        if parts is None:
            parts = render()
            cache.set(key, parts, seconds)
    return {part: mark_safe(html) for part, html in parts.items()}  # noqa: S308 - our render
