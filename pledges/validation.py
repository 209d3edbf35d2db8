"""Validation of what a supporter offers, before any row is written. Each check raises a
``PledgeError`` naming the field, so forms and the API can show it beside the input."""

import re
from collections.abc import Iterable, Mapping

from django.conf import settings

from candidates.models import Invitation
from candidates.selectors import ACTIVE_INVITATION_STATUSES, active_invitations
from slate.errors import DomainError
from slate.geography import US_STATE_CODES
from slate.models import PartnerCode, PartnerOrganization, Slate
from slate.selectors import endorsing_organizations
from slate.text import clean_text

from .models import VolunteerActivity

ZIP_RE = re.compile(r"^\d{5}(?:-\d{4})?$")
FULL_ALLOCATION_BPS = 10_000


class PledgeError(DomainError):
    pass


def check_amount(amount_cents: object) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PledgeError(
            "invalid_amount", "The amount must be a whole number of cents.", field="amount_cents"
        )
    if amount_cents < settings.SLATE_MIN_PLEDGE_CENTS:
        raise PledgeError(
            "amount_too_small",
            f"The smallest pledge is ${settings.SLATE_MIN_PLEDGE_CENTS / 100:,.2f}.",
            field="amount_cents",
        )
    if amount_cents > settings.SLATE_MAX_PLEDGE_CENTS:
        raise PledgeError(
            "amount_too_large",
            f"The largest pledge is ${settings.SLATE_MAX_PLEDGE_CENTS / 100:,.2f}.",
            field="amount_cents",
        )


def check_volunteer_offer(
    *, hours: object, activities: object, zip_code: object, availability: object
) -> tuple[list[str], str, str]:
    """Returns the cleaned (activities, zip_code, availability)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise PledgeError("invalid_hours", "Pledge at least one hour.", field="hours")
    if hours > settings.SLATE_MAX_VOLUNTEER_HOURS:
        raise PledgeError(
            "too_many_hours",
            f"Pledge at most {settings.SLATE_MAX_VOLUNTEER_HOURS} hours at once.",
            field="hours",
        )
    if not isinstance(activities, list | tuple | set | frozenset) or not all(
        isinstance(a, str) for a in activities
    ):
        raise PledgeError(
            "invalid_activity", "Choose activities from the list.", field="activities"
        )
    activities = sorted(set(activities))
    if not activities:
        raise PledgeError("no_activities", "Choose at least one activity.", field="activities")
    if any(a not in VolunteerActivity.values for a in activities):
        raise PledgeError(
            "invalid_activity", "Choose activities from the list.", field="activities"
        )
    zip_code = clean_text(zip_code, field="zip_code", error=PledgeError, max_length=10)
    availability = clean_text(availability, field="availability", error=PledgeError, max_length=200)
    if not ZIP_RE.match(zip_code):
        raise PledgeError("invalid_zip", "Enter a 5-digit ZIP code.", field="zip_code")
    return activities, zip_code, availability


def clean_supporter_state(value: str) -> str:
    value = clean_text(value, field="supporter_state", error=PledgeError, max_length=2).upper()
    if value and value not in US_STATE_CODES:
        raise PledgeError(
            "invalid_state", "Choose a US state or territory.", field="supporter_state"
        )
    return value


def check_referral(referred_by: PartnerOrganization | None, slate: Slate) -> None:
    if (
        referred_by is not None
        and not endorsing_organizations(slate.pk).filter(pk=referred_by.pk).exists()
    ):
        raise PledgeError(
            "invalid_referral",
            "That organization does not endorse this slate.",
            field="referred_by",
        )


def clean_partner_code(
    partner_code: PartnerCode | None, referred_by: PartnerOrganization | None
) -> PartnerCode | None:
    """The sub-code to record: one of the referring organization's own codes, else none. A
    code that does not fit is ignored, never an error (a link must not stop a pledge)."""
    if partner_code is None or referred_by is None:
        return None
    return partner_code if partner_code.organization_id == referred_by.pk else None


def invited_candidate_ids(slate: Slate) -> set[int]:
    return set(active_invitations(slate).values_list("candidate_id", flat=True))


def slate_invitations(slate: Slate) -> list[Invitation]:
    """Every invitation of the slate with its candidate, oldest first (one query): the
    invited candidates and the required ones, for the checks and the conditions text."""
    return list(Invitation.objects.filter(slate=slate).select_related("candidate").order_by("pk"))


def invited_among(invitations: Iterable[Invitation]) -> set[int]:
    """``invited_candidate_ids`` from invitations already read."""
    return {i.candidate_id for i in invitations if i.status in ACTIVE_INVITATION_STATUSES}


def check_conditions(
    slate: Slate, min_signatures: int | None, candidate_ids: Iterable[int], invited: set[int]
) -> list[int]:
    if min_signatures is not None:
        if isinstance(min_signatures, bool) or not isinstance(min_signatures, int):
            raise PledgeError(
                "invalid_condition", "Must be a whole number.", field="condition_min_signatures"
            )
        if not 1 <= min_signatures <= max(len(invited), 1):
            raise PledgeError(
                "invalid_condition",
                f"Choose between 1 and {len(invited)} candidates.",
                field="condition_min_signatures",
            )
    ids = sorted(set(candidate_ids))
    unknown = [cid for cid in ids if cid not in invited]
    if unknown:
        raise PledgeError(
            "unknown_candidate",
            "A condition names a candidate who is not on this slate.",
            field="condition_required_candidates",
        )
    return ids


def check_allocation(allocation: Mapping[int, int] | None, invited: set[int]) -> dict[int, int]:
    if not allocation:
        return {}
    cleaned: dict[int, int] = {}
    for candidate_id, weight in allocation.items():
        if candidate_id not in invited:
            raise PledgeError(
                "unknown_candidate", "The allocation names a candidate who is not on this slate.",
                field="allocation",
            )  # fmt: skip
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise PledgeError(
                "invalid_allocation",
                "Each share must be a positive whole number.",
                field="allocation",
            )
        cleaned[candidate_id] = weight
    if sum(cleaned.values()) != FULL_ALLOCATION_BPS:
        raise PledgeError(
            "invalid_allocation", "The shares must add up to 100%.", field="allocation"
        )
    return cleaned
