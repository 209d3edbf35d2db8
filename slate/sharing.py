"""Share links remembered in the visitor's session, for the app that records the pledge.

A supporter's link is ``/slates/<slug>/?ref=<code>``; the code is remembered for that slate
only, and the pledges app credits its owner when the visitor pledges or signs on (a code that
is no one's is ignored there). Kept here, at the bottom, so the slate page can remember a code
without importing the pledges app above it.
"""

import re

SUPPORTER_REFS_SESSION_KEY = "supporter_refs"
REF_RE = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
REMEMBERED_SLATES = 20


def remember_supporter_ref(session, slug: str, code: object) -> None:
    """Remember ``code`` for this slate if it looks like a code; the newest link wins."""
    if not isinstance(code, str) or not REF_RE.fullmatch(code):
        return
    refs = dict(session.get(SUPPORTER_REFS_SESSION_KEY) or {})
    refs.pop(slug, None)
    refs[slug] = code
    session[SUPPORTER_REFS_SESSION_KEY] = dict(list(refs.items())[-REMEMBERED_SLATES:])


def supporter_ref(session, slug: str) -> str:
    refs = session.get(SUPPORTER_REFS_SESSION_KEY) or {}
    code = refs.get(slug, "") if isinstance(refs, dict) else ""
    return code if isinstance(code, str) and REF_RE.fullmatch(code) else ""
