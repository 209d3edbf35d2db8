"""Supporters bringing supporters: personal share codes and who brought whom.

A code that does not exist, a supporter's own code, or a second referrer for someone already
brought is ignored, never an error: a share link must never stand between a visitor and the
slate.
"""

import secrets

from django.db import IntegrityError, transaction

from slate.models import Slate
from slate.sharing import REF_RE

from .models import Referral, ReferralCode

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
