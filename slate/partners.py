"""Partner organizations: registering one, staff verifying it, its endorsements of slates,
its sub-codes for chapters and mailings, and its logo."""

import io
import re

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from . import selectors
from .errors import SlateError
from .models import Endorsement, PartnerCode, PartnerLogo, PartnerOrganization, Slate
from .states import SlateState
from .text import clean_text


@transaction.atomic
def create_partner_organization(
    *, name: str, kind: str, admin, website: str = "", slug: str | None = None
) -> PartnerOrganization:
    name = clean_text(
        name, field="name", error=SlateError, max_length=200, required=True,
        required_message="An organization needs a name.",
    )  # fmt: skip
    website = clean_text(website, field="website", error=SlateError, max_length=200)
    if kind not in PartnerOrganization.Kind.values:
        raise SlateError(
            "invalid_kind", "Choose union, civic, religious, advocacy or other.", field="kind"
        )
    slug = slugify(slug or name)[:70]
    if not slug or PartnerOrganization.objects.filter(slug=slug).exists():
        raise SlateError("invalid_slug", "That address is taken or empty.", field="slug")
    organization = PartnerOrganization.objects.create(
        name=name, kind=kind, website=website, slug=slug
    )
    organization.admins.add(admin)
    return organization


@transaction.atomic
def verify_partner_organization(*, organization: PartnerOrganization, actor) -> PartnerOrganization:
    if not (actor.is_authenticated and actor.is_staff):
        raise SlateError("forbidden", "Only staff verify organizations.")
    organization.verified = True
    organization.save(update_fields=["verified"])
    return organization


@transaction.atomic
def unverify_partner_organization(
    *, organization: PartnerOrganization, actor
) -> PartnerOrganization:
    """Staff found it is not who it says: its endorsements stop counting at once."""
    if not (actor.is_authenticated and actor.is_staff):
        raise SlateError("forbidden", "Only staff verify organizations.")
    organization.verified = False
    organization.save(update_fields=["verified"])
    return organization


@transaction.atomic
def endorse_slate(
    *, organization: PartnerOrganization, slate: Slate, actor, statement: str = ""
) -> Endorsement:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may endorse for it.")
    statement = clean_text(statement, field="statement", error=SlateError, max_length=2_000)
    slate = Slate.objects.get(pk=slate.pk)  # the caller's copy may predate a transition
    if slate.state not in (SlateState.OPEN, SlateState.LOCKED):
        raise SlateError("closed", "Only an open or locked slate can be endorsed.", field="slate")
    endorsement, _ = Endorsement.objects.update_or_create(
        organization=organization,
        slate=slate,
        defaults={"statement": statement, "endorsed_by": actor},
    )
    return endorsement


PARTNER_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_PARTNER_CODES = 200
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 256  # pixels; larger logos are scaled down


@transaction.atomic
def create_partner_code(
    *, organization: PartnerOrganization, actor, label: object, kind: str, code: object = ""
) -> PartnerCode:
    """A sub-code for one chapter, mailing or event. ``code`` (the link's last part) defaults
    to the label made into a short name."""
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may add its codes.")
    organization = PartnerOrganization.objects.select_for_update().get(pk=organization.pk)
    label = clean_text(
        label, field="label", error=SlateError, max_length=100, required=True,
        required_message="Name the chapter, mailing or event.",
    )  # fmt: skip
    if kind not in PartnerCode.Kind.values:
        raise SlateError("invalid_kind", "Choose chapter, mailing, event or other.", field="kind")
    code = clean_text(code, field="code", error=SlateError, max_length=32).lower()
    code = code or slugify(label)[:32].strip("-")
    if not PARTNER_CODE_RE.fullmatch(code):
        raise SlateError(
            "invalid_code",
            "Use up to 32 lower-case letters, digits and hyphens, starting with a letter or digit.",
            field="code",
        )
    if organization.codes.filter(code=code).exists():
        raise SlateError("code_taken", f"The code {code} is in use already.", field="code")
    if organization.codes.count() >= MAX_PARTNER_CODES:
        raise SlateError(
            "too_many_codes",
            f"An organization has at most {MAX_PARTNER_CODES} codes.",
            field="code",
        )
    return PartnerCode.objects.create(organization=organization, code=code, label=label, kind=kind)


def _logo_png(data: bytes) -> bytes:
    """``data`` as a small PNG, or a SlateError saying what is wrong with it. Re-encoding
    drops whatever else the file carried (metadata, scripts in SVG-like payloads)."""
    if not data:
        raise SlateError("invalid_logo", "Choose an image file.", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise SlateError("invalid_logo", "The logo must be under 2 MB.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise SlateError(
                    "invalid_logo", "Use a PNG, JPEG, GIF or WebP image.", field="logo"
                )
            if image.width * image.height > 40_000_000:
                raise SlateError("invalid_logo", "That image is too large.", field="logo")
            image = image.convert("RGBA")
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SlateError(
            "invalid_logo", "That file is not an image we can read.", field="logo"
        ) from None
    return out.getvalue()


@transaction.atomic
def set_partner_logo(*, organization: PartnerOrganization, actor, data: bytes) -> PartnerLogo:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError("forbidden", "Only the organization's admins may change its logo.")
    png = _logo_png(data)
    logo, _ = PartnerLogo.objects.update_or_create(
        organization=organization, defaults={"png": png, "updated_at": timezone.now()}
    )
    return logo


@transaction.atomic
def withdraw_endorsement(*, organization: PartnerOrganization, slate: Slate, actor) -> None:
    if not selectors.is_partner_admin(actor, organization):
        raise SlateError(
            "forbidden", "Only the organization's admins may withdraw its endorsement."
        )
    Endorsement.objects.filter(organization=organization, slate=slate).delete()
