"""Who an organizer update reaches: its segment (kinds of pledge, pledge states, the
supporters' states, the referring organizations), the audience it names, and who of them the
30-day cap or their own choice leaves out (see ``organizing.updates`` for the promise)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from pledges.models import Pledge
from pledges.states import LIVE_MONEY_STATES, LIVE_NON_MONEY_STATES, PledgeKind, PledgeState
from slate import mail
from slate.errors import DomainError
from slate.geography import US_STATES
from slate.models import EmailOptOut, EmailSuppression, PartnerOrganization, Slate

from .models import UpdateRecipient

R = UpdateRecipient.Status

CAP_WINDOW = timedelta(days=30)
SEGMENT_KEYS = ("kinds", "states", "organizations", "pledge_states")
LIVE_STATES = LIVE_MONEY_STATES | LIVE_NON_MONEY_STATES


@dataclass(frozen=True)
class Segment:
    kinds: tuple[str, ...] = ()
    states: tuple[str, ...] = ()  # supporters' US states
    organizations: tuple[int, ...] = ()  # the partner organizations that referred them
    pledge_states: tuple[str, ...] = ()  # empty: live pledges

    def as_json(self) -> dict:
        return {key: list(getattr(self, key)) for key in SEGMENT_KEYS}

    def describe(self, organizations: dict[int, str] | None = None) -> str:
        parts = []
        if self.kinds:
            parts.append(" or ".join(PledgeKind(k).label.lower() for k in self.kinds))
        if self.pledge_states:
            parts.append("pledges " + " or ".join(PledgeState(s).label for s in self.pledge_states))
        if self.states:
            parts.append("in " + ", ".join(self.states))
        if self.organizations:
            names = organizations or {}
            parts.append("via " + ", ".join(names.get(pk, f"#{pk}") for pk in self.organizations))
        return "; ".join(parts) or "every supporter with a live pledge"


def segment_organizations(slate: Slate):
    """The organizations a segment may name: those endorsing the slate, and any whose links
    brought a pledge to it."""
    return (
        PartnerOrganization.objects.filter(
            Q(endorsements__slate=slate) | Q(referred_pledges__slate=slate)
        )
        .distinct()
        .order_by("name")
    )


def parse_segment(slate: Slate, data: dict | None) -> Segment:
    """A segment from a form or the API: unknown keys or values are refused by name."""
    data = data or {}
    unknown = set(data) - set(SEGMENT_KEYS)
    if unknown:
        raise DomainError(
            "unknown_segment", f"Unknown segment: {', '.join(sorted(unknown))}.", field="segment"
        )

    def values(key: str, allowed, convert=str) -> tuple:
        raw = data.get(key) or []
        if isinstance(raw, str | int):
            raw = [raw]
        try:
            chosen = tuple(sorted({convert(value) for value in raw}))
        except (TypeError, ValueError):
            chosen = None
        if chosen is None or not set(chosen) <= set(allowed):
            raise DomainError(
                "unknown_segment",
                f"Unknown segment: {key.replace('_', ' ')} {raw!r} is not one of the choices.",
                field=key,
            )
        return chosen

    return Segment(
        kinds=values("kinds", PledgeKind.values),
        states=values("states", [code for code, _ in US_STATES]),
        organizations=values(
            "organizations", set(segment_organizations(slate).values_list("pk", flat=True)), int
        ),
        pledge_states=values("pledge_states", PledgeState.values),
    )


def _segment_pledges(slate: Slate, segment: Segment):
    pledges = Pledge.objects.filter(
        slate=slate, state__in=segment.pledge_states or sorted(LIVE_STATES)
    )
    if segment.kinds:
        pledges = pledges.filter(kind__in=segment.kinds)
    if segment.states:
        pledges = pledges.filter(supporter_state__in=segment.states)
    if segment.organizations:
        pledges = pledges.filter(referred_by_id__in=segment.organizations)
    return pledges


def audience(slate: Slate, segment: Segment):
    """The supporters the segment names (each once), who have an email address."""
    return (
        get_user_model()
        .objects.filter(pk__in=_segment_pledges(slate, segment).values("supporter_id"))
        .exclude(email="")
    )


def supporters_at_cap(supporters, *, now):
    """Of ``supporters`` (a queryset of users), the ids of those who already got (or are
    getting) the most organizer updates allowed in the last 30 days."""
    return (
        UpdateRecipient.objects.filter(
            supporter__in=supporters.values("pk"),
            status__in=(R.PENDING, R.SENT),
            created_at__gte=now - CAP_WINDOW,
        )
        .values("supporter_id")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS)
        .values("supporter_id")
    )


def opted_out_of_updates(slate: Slate):
    """Opt-outs of organizer updates (this slate's or all slates') for ``OuterRef("email")``."""
    return EmailOptOut.objects.filter(
        Q(slate=slate) | Q(slate__isnull=True),
        category=mail.Category.ORGANIZER_UPDATES,
        address=OuterRef("email"),
    )


@dataclass(frozen=True)
class AudienceSize:
    total: int  # in the segment, with an email address
    over_cap: int  # skipped: they had their updates for these 30 days
    opted_out: int  # turned organizer updates off, or suppressed (counted once, cap aside)

    @property
    def reached(self) -> int:
        return self.total - self.over_cap - self.opted_out


def audience_size(slate: Slate, segment: Segment) -> AudienceSize:
    """What the composer shows before sending (three counting queries)."""
    people = audience(slate, segment)
    now = timezone.now()
    over_cap = people.filter(pk__in=supporters_at_cap(people, now=now))
    suppressed = EmailSuppression.objects.filter(address=OuterRef("email"))
    blocked = people.exclude(pk__in=supporters_at_cap(people, now=now)).filter(
        Exists(opted_out_of_updates(slate)) | Exists(suppressed)
    )
    return AudienceSize(total=people.count(), over_cap=over_cap.count(), opted_out=blocked.count())
