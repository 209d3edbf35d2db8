"""Supporters bringing supporters: personal share codes and who brought whom.

A code that does not exist, a supporter's own code, or a second referrer for someone already
brought is ignored, never an error: a share link must never stand between a visitor and the
slate.
"""

import secrets

from django.db import IntegrityError, transaction

from slate.models import PartnerOrganization, Slate
from slate.sharing import REF_RE

from .models import PartnerShare, Pledge, Referral, ReferralCode
from .validation import PledgeError

CODE_BYTES = 6  # 8 URL-safe characters


def code_for(supporter) -> str:
    """The supporter's share code, made the first time it is asked for."""
    existing = ReferralCode.objects.filter(supporter=supporter).values_list("code", flat=True)
    if existing:
        return existing[0]
    while True:
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(
                    supporter=supporter, code=secrets.token_urlsafe(CODE_BYTES)
                ).code
        except IntegrityError:
            # Another request made this supporter's code meanwhile, or (rarely) the random
            # code is taken: read the first, else try a new code.
            existing = ReferralCode.objects.filter(supporter=supporter)
            if existing.exists():
                return existing.get().code


def attribute(*, slate: Slate, supporter, code: str | None) -> Referral | None:
    """Credit the owner of ``code`` with bringing ``supporter`` to ``slate``, unless someone
    was credited already (the first link counts) or the code is no one's but the supporter's."""
    if not code or not REF_RE.fullmatch(code):
        return None
    referrer_id = (
        ReferralCode.objects.filter(code=code).values_list("supporter_id", flat=True).first()
    )
    if referrer_id is None or referrer_id == supporter.pk:
        return None
    referral, _ = Referral.objects.get_or_create(
        slate=slate, supporter=supporter, defaults={"referrer_id": referrer_id}
    )
    return referral


# --- What a referring organization may learn --------------------------------------------------


def referring_organizations(supporter) -> list[tuple[PartnerOrganization, bool]]:
    """The partner organizations whose links brought one of the supporter's pledges, each with
    whether the supporter lets it know they pledged."""
    shared = set(
        PartnerShare.objects.filter(supporter=supporter).values_list("organization_id", flat=True)
    )
    organizations = (
        PartnerOrganization.objects.filter(referred_pledges__supporter=supporter)
        .distinct()
        .order_by("name")
    )
    return [(organization, organization.pk in shared) for organization in organizations]


def set_partner_sharing(*, supporter, organization: PartnerOrganization, share: bool) -> None:
    """Let ``organization`` know (or stop letting it know) that the supporter pledged. Only an
    organization whose link brought one of their pledges may be told."""
    if share:
        if not Pledge.objects.filter(supporter=supporter, referred_by=organization).exists():
            raise PledgeError(
                "not_referred", f"{organization.name} did not bring any of your pledges."
            )
        PartnerShare.objects.get_or_create(supporter=supporter, organization=organization)
    else:
        PartnerShare.objects.filter(supporter=supporter, organization=organization).delete()
