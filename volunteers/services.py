"""Writes about volunteers: the pledge's details, matching at the lock, and match changes.

Shifts and sign-ups are in ``shifts.py``; reminders in ``reminders.py``.
"""

import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from candidates.models import Candidate
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate import geo
from slate.models import PartnerCode, PartnerOrganization, Slate
from slate.queue import enqueue_named_on_commit
from slate.states import SlateState
from slate.text import clean_text

from . import selectors
from .errors import VolunteerError
from .matching import Assignment, Offer, match_offers
from .models import (
    WEEKLY_SLOT_CHOICES,
    MatchChange,
    MatchingRound,
    VolunteerDetails,
    VolunteerMatch,
    WorkMode,
)

__all__ = ["VolunteerError"]

LANGUAGE_RE = re.compile(r"^[\w .'()-]{1,40}$")
PHONE_RE = re.compile(r"^[0-9+() .-]{7,32}$")
MAX_LANGUAGES = 10
VALID_SLOTS = frozenset(value for value, _ in WEEKLY_SLOT_CHOICES)
LOCKED_STATES = (SlateState.LOCKED, SlateState.RELEASING, SlateState.RELEASED)


# --- Checks before anything is written --------------------------------------------------------


def check_zip(zip_code: object) -> geo.Place:
    zip_code = clean_text(zip_code, field="zip_code", error=VolunteerError, max_length=10)
    if not re.fullmatch(r"\d{5}(?:-\d{4})?", zip_code):
        raise VolunteerError("invalid_zip", "Enter a 5-digit ZIP code.", field="zip_code")
    place = geo.zip_place(zip_code)
    if place is None:
        raise VolunteerError(
            "unknown_zip",
            f"{zip_code[:5]} is not a US ZIP code we know. Check it and try again.",
            field="zip_code",
        )
    return place


def check_details(
    *, mode: object, weekly_slots: object, languages: object, display_name: object, phone: object
) -> dict:
    if mode not in WorkMode.values:
        raise VolunteerError("invalid_mode", "Choose in person, remote or either.", field="mode")
    if not isinstance(weekly_slots, list | tuple | set) or any(
        s not in VALID_SLOTS for s in weekly_slots
    ):
        raise VolunteerError("invalid_slots", "Choose times from the list.", field="weekly_slots")
    if isinstance(languages, str):
        languages = [part for part in re.split(r"[,;]", languages)]
    if not isinstance(languages, list | tuple):
        raise VolunteerError("invalid_languages", "List languages by name.", field="languages")
    cleaned_languages: list[str] = []
    for language in languages:
        language = clean_text(language, field="languages", error=VolunteerError, max_length=40)
        if not language:
            continue
        if not LANGUAGE_RE.match(language):
            raise VolunteerError(
                "invalid_languages", "Name languages with letters only.", field="languages"
            )
        if language.casefold() not in {seen.casefold() for seen in cleaned_languages}:
            cleaned_languages.append(language)
    if len(cleaned_languages) > MAX_LANGUAGES:
        raise VolunteerError(
            "invalid_languages", f"List at most {MAX_LANGUAGES} languages.", field="languages"
        )
    phone = clean_text(phone, field="phone", error=VolunteerError, max_length=32)
    if phone and not PHONE_RE.match(phone):
        raise VolunteerError(
            "invalid_phone", "Enter a phone number, like 415 555 0100.", field="phone"
        )
    return {
        "mode": mode,
        "weekly_slots": sorted(set(weekly_slots)),
        "languages": cleaned_languages,
        "display_name": clean_text(
            display_name, field="display_name", error=VolunteerError, max_length=120
        ),
        "phone": phone,
    }


# --- The volunteer pledge ---------------------------------------------------------------------


@transaction.atomic
def pledge_volunteer_hours(
    *,
    supporter,
    slate: Slate,
    hours: int,
    activities: Iterable[str],
    zip_code: str,
    mode: str = WorkMode.EITHER,
    weekly_slots: Iterable[str] = (),
    languages: Iterable[str] | str = (),
    share_contact: bool = False,
    display_name: str = "",
    phone: str = "",
    availability: str = "",
    supporter_state: str = "",
    referred_by: PartnerOrganization | None = None,
    partner_code: PartnerCode | None = None,
    idempotency_key: str = "",
) -> Pledge:
    """A volunteer pledge (through ``pledges.intake.create_volunteer_pledge``, which keeps
    the totals and history) and its details, in one transaction. The ZIP code must exist."""
    place = check_zip(zip_code)
    details = check_details(
        mode=mode, weekly_slots=list(weekly_slots), languages=languages,
        display_name=display_name, phone=phone,
    )  # fmt: skip
    try:
        pledge = pledge_intake.create_volunteer_pledge(
            supporter=supporter, slate=slate, hours=hours, activities=activities,
            zip_code=zip_code, availability=availability,
            supporter_state=supporter_state or place.state, referred_by=referred_by,
            partner_code=partner_code,
            idempotency_key=idempotency_key,
        )  # fmt: skip
    except pledge_services.PledgeError as exc:
        raise VolunteerError(exc.code, exc.message, field=exc.field) from None
    # One INSERT ... ON CONFLICT DO NOTHING: a pledge returned for its idempotency key keeps
    # the details it has (no read first, no savepoint).
    VolunteerDetails.objects.bulk_create(
        [VolunteerDetails(pledge=pledge, **details, share_contact=bool(share_contact))],
        ignore_conflicts=True,
    )
    return pledge


@transaction.atomic
def set_contact_consent(*, pledge: Pledge, actor, share_contact: bool) -> VolunteerDetails:
    if not actor.is_authenticated or actor.pk != pledge.supporter_id:
        raise VolunteerError("forbidden", "You can change only your own pledge.")
    details, _ = VolunteerDetails.objects.select_for_update().get_or_create(pledge=pledge)
    details.share_contact = bool(share_contact)
    details.save(update_fields=["share_contact", "updated_at"])
    return details


# --- Matching at the lock ---------------------------------------------------------------------


def _offer(pledge: Pledge) -> Offer:
    details = getattr(pledge, "volunteer_details", None)
    mode = details.mode if details else WorkMode.EITHER
    return Offer(
        pledge_id=pledge.pk,
        hours=pledge.hours,
        mode=mode,
        place=geo.zip_place(pledge.zip_code),
        zip_code=pledge.zip_code[:5],
    )


def _existing_hours(slate_id: int) -> dict[int, int]:
    rows = (
        VolunteerMatch.objects.filter(slate_id=slate_id, candidate__isnull=False)
        .values("candidate_id")
        .annotate(hours=Sum("pledge__hours"))
    )
    return {row["candidate_id"]: row["hours"] for row in rows}


def match_slate_volunteers(*, slate_id: int) -> int:
    """Match every live volunteer pledge of a locked slate that has no match yet, and email
    each volunteer once it commits. Safe to run any number of times, even at once: the
    slate's matching round row is locked for the whole run. Returns how many were matched."""
    with transaction.atomic():
        slate = Slate.objects.get(pk=slate_id)
        if slate.state not in LOCKED_STATES:
            return 0
        round_, _ = MatchingRound.objects.get_or_create(slate=slate)
        round_ = MatchingRound.objects.select_for_update().get(pk=round_.pk)
        pledges = list(
            Pledge.objects.filter(
                slate_id=slate_id, kind=PledgeKind.VOLUNTEER, state=PledgeState.COMMITTED,
                volunteer_match__isnull=True,
            ).select_related("volunteer_details")
        )  # fmt: skip
        campaigns = selectors.signed_campaigns(slate)
        assignments = match_offers(
            [_offer(p) for p in pledges], campaigns, _existing_hours(slate_id)
        )
        created = _record_assignments(slate, assignments)
        round_.matched_count = VolunteerMatch.objects.filter(
            slate=slate, candidate__isnull=False
        ).count()
        round_.unmatched_count = VolunteerMatch.objects.filter(
            slate=slate, candidate__isnull=True
        ).count()
        round_.completed_at = timezone.now()
        round_.save()
        for match in created:
            enqueue_named_on_commit("volunteers.tasks.notify_volunteer_match", match.pk)
    return sum(1 for m in created if m.candidate_id)


def slates_awaiting_matching() -> list[int]:
    """Locked slates whose volunteers were never matched (a lost task message)."""
    return list(
        Slate.objects.filter(state__in=LOCKED_STATES)
        .exclude(matching_round__completed_at__isnull=False)
        .values_list("id", flat=True)
    )


def _record_assignments(slate: Slate, assignments: list[Assignment]) -> list[VolunteerMatch]:
    matches = VolunteerMatch.objects.bulk_create(
        VolunteerMatch(
            pledge_id=a.pledge_id, slate=slate, candidate_id=a.candidate_id, mode=a.mode,
            distance_miles=a.distance_miles, reason=a.reason[:500],
        )
        for a in assignments
    )  # fmt: skip
    MatchChange.objects.bulk_create(
        MatchChange(match=m, to_candidate_id=m.candidate_id, reason=m.reason) for m in matches
    )
    return matches


@transaction.atomic
def change_match(
    *, match: VolunteerMatch, candidate: Candidate, actor, mode: str = ""
) -> VolunteerMatch:
    """The volunteer sends their hours to another signed campaign of the slate."""
    match = (
        VolunteerMatch.objects.select_for_update(of=("self",))
        .select_related("pledge", "slate")
        .get(pk=match.pk)
    )
    if not actor.is_authenticated or actor.pk != match.pledge.supporter_id:
        raise VolunteerError("forbidden", "You can change only your own match.")
    signed = {c.candidate_id: c for c in selectors.signed_campaigns(match.slate)}
    if candidate.pk not in signed:
        raise VolunteerError(
            "not_signed", "Choose one of the campaigns that signed this slate.", field="candidate"
        )
    mode = mode or match.mode
    if mode not in (WorkMode.IN_PERSON, WorkMode.REMOTE):
        raise VolunteerError("invalid_mode", "Choose in person or remote.", field="mode")
    if candidate.pk == match.candidate_id and mode == match.mode:
        return match
    previous = match.candidate
    place = geo.zip_place(match.pledge.zip_code)
    match.candidate = candidate
    match.mode = mode
    match.distance_miles = (
        geo.distance_miles(place, signed[candidate.pk].place)
        if place and mode == WorkMode.IN_PERSON
        else None
    )
    match.reason = (
        f"You chose {candidate.full_name}'s campaign ({dict(WorkMode.choices)[mode].lower()})."
    )
    match.chosen_by_volunteer = True
    match.save()
    MatchChange.objects.create(
        match=match, from_candidate=previous, to_candidate=candidate, actor=actor,
        reason=match.reason,
    )  # fmt: skip
    return match
