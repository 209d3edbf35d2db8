"""Sign on in one form: name, email and ZIP, confirmed by a link emailed to that address; no
password. Following the link makes the sign-on a pledge of the account with that address
(created without a password when there is none), so signing up or logging in later with the
same address finds the earlier sign-ons there.

The link, its resending and the account it leads to are ``slate.email_links``'s, shared with
asks by email (``candidates.asks``).
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from slate import email_links, mail
from slate.email_links import LINK_MAX_AGE
from slate.geo import zip_place
from slate.links import public_url
from slate.models import PartnerCode, PartnerOrganization, Slate
from slate.text import clean_text

from . import intake, referrals
from .models import PUBLIC_NAME_MAX_LENGTH, Pledge, SignOnRequest
from .states import PledgeState
from .validation import ZIP_RE, PledgeError, check_referral, clean_partner_code

LINK_SALT = "pledges.sign-on-link"
LINK_MESSAGES = email_links.LinkMessages(
    expired="This link has expired. Sign on again to get a new one.",
    bad="This link is not one we sent. Sign on again.",
)


def public_name(name: str) -> str:
    """What the public roll shows: first name and last initial ("Jane D."), never more."""
    words = name.split()
    if not words:
        return ""
    shown = words[0] if len(words) == 1 else f"{words[0]} {words[-1][0].upper()}."
    return shown[:PUBLIC_NAME_MAX_LENGTH]


def clean_sign_on(*, name: object, email: object, zip_code: object) -> tuple[str, str, str, str]:
    """The cleaned (name, email, ZIP, state), or a PledgeError naming the field."""
    name = clean_text(
        name, field="name", error=PledgeError, max_length=100, required=True,
        required_message="Enter your name.",
    )  # fmt: skip
    email = email_links.clean_email(email, error=PledgeError)
    zip_code = zip_code.strip() if isinstance(zip_code, str) else ""
    if not ZIP_RE.fullmatch(zip_code):
        raise PledgeError("invalid_zip", "Enter a 5-digit ZIP code (like 14604).", field="zip_code")
    place = zip_place(zip_code)
    if place is None:
        raise PledgeError(
            "unknown_zip", "That ZIP code is not one we know; check it.", field="zip_code"
        )
    return name, email, zip_code[:5], place.state


@transaction.atomic
def request_sign_on(
    *,
    slate: Slate,
    name: object,
    email: object,
    zip_code: object,
    on_public_roll: bool = False,
    referred_by: PartnerOrganization | None = None,
    partner_code: PartnerCode | None = None,
    referrer_code: str = "",
) -> SignOnRequest:
    """Record the sign-on and email its confirmation link. The same address again is the same
    request: details typed again replace those not yet confirmed, and the link is re-sent at
    most once per ``email_links.RESEND_AFTER``. Nothing counts until the link is followed."""
    name, email, zip_code, state = clean_sign_on(name=name, email=email, zip_code=zip_code)
    # Nothing counts yet, so no slate lock: following the link signs on through
    # intake.sign_on, which locks the slate and checks again.
    if not slate.accepts_commitments():
        raise PledgeError(
            "slate_closed", "This slate is not accepting sign-ons right now.", field="slate"
        )
    check_referral(referred_by, slate)
    request, _ = SignOnRequest.objects.select_for_update().get_or_create(
        slate=slate,
        email=email,
        defaults={"name": name, "zip_code": zip_code, "supporter_state": state},
    )
    if request.confirmed_at is None:
        request.name, request.zip_code, request.supporter_state = name, zip_code, state
        request.on_public_roll = bool(on_public_roll)
        if referred_by is not None:
            request.referred_by = referred_by
            request.partner_code = clean_partner_code(partner_code, referred_by)
        request.referrer_code = referrer_code[:32] or request.referrer_code
    email_links.queue_link_if_due("pledges.tasks.send_sign_on_link", request)
    request.save()
    return request


def confirmation_token(request: SignOnRequest) -> str:
    return email_links.make_token(salt=LINK_SALT, pk=request.pk, email=request.email)


def request_for_token(token: str) -> SignOnRequest:
    """The request a link names, or a PledgeError saying why the link is no good."""
    return email_links.request_for_token(
        token,
        queryset=SignOnRequest.objects.select_related("slate"),
        salt=LINK_SALT,
        max_age=LINK_MAX_AGE,
        error=PledgeError,
        messages=LINK_MESSAGES,
    )


@transaction.atomic
def confirm_sign_on(*, token: str) -> Pledge:
    """Follow the link: the sign-on becomes a pledge (once, however often it is followed)."""
    request = request_for_token(token)
    request = SignOnRequest.objects.select_for_update().get(pk=request.pk)
    if request.pledge_id is not None:
        pledge = Pledge.objects.get(pk=request.pledge_id)
        if pledge.state == PledgeState.COMMITTED:
            return pledge
    supporter = email_links.account_for(request.email, request.name)
    pledge = intake.sign_on(
        supporter=supporter,
        slate=request.slate,
        supporter_state=request.supporter_state,
        referred_by=request.referred_by,
        partner_code=request.partner_code,
        public_name=public_name(request.name) if request.on_public_roll else "",
    )
    referrals.attribute(slate=request.slate, supporter=supporter, code=request.referrer_code)
    request.pledge, request.confirmed_at = pledge, timezone.now()
    request.save(update_fields=["pledge", "confirmed_at"])
    return pledge


def send_sign_on_link(*, request_id: int) -> bool:
    """Email the confirmation link (the task's body). A request confirmed meanwhile gets
    none; a mail error propagates so the task retries."""
    request = SignOnRequest.objects.select_related("slate").filter(pk=request_id).first()
    if request is None or request.confirmed_at is not None:
        return False
    link = public_url(reverse("pledges:sign-on-confirm", args=[confirmation_token(request)]))
    return mail.send(
        mail.Email(
            to=request.email,
            subject=f"Confirm your name on {request.slate.name}",
            template="pledges/email/sign_on_link.txt",
            context={"request": request, "link": link, "days": LINK_MAX_AGE.days},
            slate=request.slate,
            reason=f"this address was given to sign on to {request.slate.name}",
        )
    )
