"""A request confirmed by a link emailed to its address, for people without an account: the
signed link, when to send it again, the address check, and the account a confirmed address
belongs to. Used by sign-ons (``pledges.signons``) and asks (``candidates.asks``), each
passing its own model, salt and words to ``request_for_token``.

The link proves control of the address, nothing more: it never logs anyone in (the address
may belong to an organizer whose login needs a second factor).
"""

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from allauth.utils import generate_unique_username
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from .errors import DomainError
from .queue import enqueue_named_on_commit

LINK_MAX_AGE = timedelta(days=14)
# Submitting the form again within this time sends no second email (a mailbox is not a target).
RESEND_AFTER = timedelta(minutes=5)


def clean_email(value: object, *, error: type[DomainError], field: str = "email") -> str:
    """The address lower-cased, or ``error`` naming the field."""
    if not isinstance(value, str) or len(value) > 254:
        raise error("invalid_email", "Enter a valid email address.", field=field)
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise error("invalid_email", "Enter a valid email address.", field=field) from None
    return email


def link_due(link_sent_at, now) -> bool:
    """Whether a request's link may be emailed (again) now."""
    return link_sent_at is None or now - link_sent_at >= RESEND_AFTER


def queue_link_if_due(task_name: str, request) -> None:
    """Queue ``task_name`` (which emails ``request``'s link) once the request commits, unless
    its link went out within ``RESEND_AFTER``; marks ``link_sent_at``, which the caller saves."""
    now = timezone.now()
    if link_due(request.link_sent_at, now):
        request.link_sent_at = now
        enqueue_named_on_commit(task_name, request.pk)


def make_token(*, salt: str, pk: int, email: str) -> str:
    return signing.dumps({"request": pk, "email": email}, salt=salt)


class LinkExpired(Exception):
    pass


class BadLink(Exception):
    pass


def read_token(token: str, *, salt: str, max_age: timedelta) -> tuple[int, str]:
    """The (request id, address) a link names; ``LinkExpired`` or ``BadLink`` otherwise."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise BadLink from None
    if not isinstance(data, dict):
        raise BadLink
    return data.get("request"), data.get("email")


@dataclass(frozen=True)
class LinkMessages:
    """What a person is told when a link does not work, in the words of the page it leads to."""

    expired: str
    bad: str  # forged, mangled, or naming a request that no longer exists


def request_for_token(
    token: str,
    *,
    queryset,
    salt: str,
    max_age: timedelta,
    error: type[DomainError],
    messages: LinkMessages,
):
    """The row of ``queryset`` a link names (its id and the address it was sent to), or
    ``error`` ("link_expired" or "bad_link") saying why the link is no good. The address must
    still match: a row whose address changed since is not the one the link was sent for."""
    try:
        pk, email = read_token(token, salt=salt, max_age=max_age)
    except LinkExpired:
        raise error("link_expired", messages.expired) from None
    except BadLink:
        raise error("bad_link", messages.bad) from None
    if not isinstance(pk, int) or not isinstance(email, str):
        raise error("bad_link", messages.bad)
    request = queryset.filter(pk=pk, email=email).first()
    if request is None:
        raise error("bad_link", messages.bad)
    return request


def account_for(email: str, name: str):
    """The account of this address, or a new one without a password. Following the link
    proved the address, so a new account's address is verified."""
    users = filter_users_by_email(email, prefer_verified=True)
    if users:
        return users[0]
    first, _, last = name.partition(" ")
    user = get_user_model().objects.create_user(
        username=generate_unique_username([first, email.split("@")[0], "supporter"]),
        email=email,
        first_name=first[:150],
        last_name=last.strip()[:150],
    )  # no password: a usable one is set through "forgot password" if they want to log in
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
