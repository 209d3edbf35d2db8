"""Volunteer test data, made through the real services."""

from datetime import timedelta

from django.utils import timezone

from pledges.models import Pledge
from tests.factories import UserFactory, make_open_slate, sign, slate_candidates
from volunteers import services, shifts


def pledge_hours(
    slate,
    *,
    zip_code="94110",
    hours=10,
    mode="either",
    share_contact=False,
    supporter=None,
    **kwargs,
) -> Pledge:
    return services.pledge_volunteer_hours(
        supporter=supporter or UserFactory(), slate=slate, hours=hours,
        activities=kwargs.pop("activities", ["canvassing"]), zip_code=zip_code, mode=mode,
        share_contact=share_contact, **kwargs,
    )  # fmt: skip


def lock(slate, signers=None):
    """Sign with the first ``threshold`` candidates (or ``signers``), which locks the slate."""
    candidates = signers or slate_candidates(slate)[: slate.threshold_min_signatures]
    for candidate in candidates:
        sign(candidate, slate)
    slate.refresh_from_db()
    return candidates


def locked_slate(**kwargs):
    slate = make_open_slate(**kwargs)
    lock(slate)
    return slate


CALL_LINK = "https://meet.example.org/abc"


def make_shift(
    slate,
    *,
    actor=None,
    capacity=10,
    starts_in=timedelta(days=3),
    mode="remote",
    candidate=None,
    **kwargs,
):
    from tests.factories import organizer_of

    actor = actor or organizer_of(slate)
    event = shifts.create_event(
        slate=slate, actor=actor, title="Weekend canvass", candidate=candidate
    )
    start = timezone.now() + starts_in
    return shifts.add_shift(
        event=event, actor=actor, starts_at=start, ends_at=start + timedelta(hours=2),
        activity=kwargs.pop("activity", "phone_banking"), mode=mode, capacity=capacity,
        call_link=kwargs.pop("call_link", CALL_LINK if mode == "remote" else ""),
        location=kwargs.pop("location", "" if mode == "remote" else "1 Main St"),
        zip_code=kwargs.pop("zip_code", "" if mode == "remote" else "94110"), **kwargs,
    )  # fmt: skip
