"""Writes to a slate itself: its row locks, and creating and editing a draft (its name,
mission, deadline, rule and planks).

The rest of the Slate aggregate's writes are in topic modules beside this one:
``lifecycle`` (``transition_slate``, the one function that changes a slate's state,
publishing, review, the threshold and the deadline), ``deadlines`` (extensions),
``organizers`` (co-organizers and their invitations) and ``partners`` (partner
organizations, endorsements, codes and logos).
"""

from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from . import selectors
from .errors import SlateError
from .models import Plank, Slate, SlateCounterShard, SlateOrganizer
from .states import SlateState
from .text import clean_text

MAX_PLANKS = 20


# --- Locks ------------------------------------------------------------------------------------


def lock_slate(slate_id: int) -> Slate:
    """Exclusive row lock: for lifecycle changes and for signature changes."""
    try:
        return Slate.objects.select_for_update().get(pk=slate_id)
    except Slate.DoesNotExist:
        raise SlateError("unknown_slate", "That slate does not exist.", field="slate") from None


def share_lock_clause(slate_alias: str) -> str:
    """What a raw query ends with to take ``lock_slate_shared``'s lock on the slate row it
    reads as ``slate_alias``, in the same round trip (escrow's money locks find a pledge's
    slate this way). Django has no FOR SHARE; SQLite has no row locks and serialises writers
    anyway, so there it is nothing."""
    return f" FOR SHARE OF {slate_alias}" if connection.vendor == "postgresql" else ""


def lock_slate_shared(slate_id: int) -> Slate:
    """Shared row lock for pledge changes.

    Many pledges may hold it at once (no hot row), yet none can commit while a lock or expiry
    holds the exclusive lock, so a pledge never lands on a slate that has just closed.
    """
    # The table name is our own constant; the id is a bound parameter. One round trip locks
    # and reads the row (this runs several times for every pledge a release settles).
    sql = f"SELECT * FROM {Slate._meta.db_table} s WHERE s.id = %s"  # noqa: S608
    found = list(Slate.objects.raw(sql + share_lock_clause("s"), [slate_id]))
    if not found:
        raise SlateError("unknown_slate", "That slate does not exist.", field="slate")
    return found[0]


# --- Creating and editing ---------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "slate"
    slug, suffix = base, 2
    while Slate.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


def _validate_rule(*, min_signatures: int, min_money_cents: int, min_volunteer_hours: int) -> None:
    for value, field_name in (
        (min_signatures, "threshold_min_signatures"),
        (min_money_cents, "threshold_min_money_cents"),
        (min_volunteer_hours, "threshold_min_volunteer_hours"),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SlateError("invalid_rule", "Must be a whole number.", field=field_name)
    if min_signatures < 1:
        raise SlateError(
            "invalid_rule",
            "At least one candidate signature must be required.",
            field="threshold_min_signatures",
        )
    if min_money_cents < 0 or min_volunteer_hours < 0:
        raise SlateError(
            "invalid_rule",
            "Minimum money and hours cannot be negative.",
            field="threshold_min_money_cents"
            if min_money_cents < 0
            else "threshold_min_volunteer_hours",
        )


def _validate_planks(planks: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(planks) > MAX_PLANKS:
        raise SlateError(
            "too_many_planks", f"A slate has at most {MAX_PLANKS} planks.", field="planks"
        )
    cleaned = []
    for title, summary in planks:
        title = clean_text(
            title, field="planks", error=SlateError, max_length=200, required=True,
            required_message="Each plank needs a title.",
        )  # fmt: skip
        summary = clean_text(summary, field="planks", error=SlateError, max_length=2_000)
        cleaned.append((title, summary))
    return cleaned


def _clean_basics(*, name: str, mission: str, deadline) -> tuple[str, str]:
    name = clean_text(
        name, field="name", error=SlateError, max_length=200, required=True,
        required_message="A slate needs a name.",
    )  # fmt: skip
    mission = clean_text(
        mission, field="mission", error=SlateError, max_length=10_000, required=True,
        required_message="Say what the slate is for.",
    )  # fmt: skip
    if deadline is None or timezone.is_naive(deadline):
        raise SlateError(
            "invalid_deadline", "The deadline needs a date, time and time zone.", field="deadline"
        )
    if deadline <= timezone.now():
        raise SlateError(
            "invalid_deadline", "The deadline must be in the future.", field="deadline"
        )
    return name, mission


@transaction.atomic
def create_slate(
    *,
    name: str,
    mission: str,
    deadline,
    threshold_min_signatures: int,
    created_by,
    threshold_min_money_cents: int = 0,
    threshold_min_volunteer_hours: int = 0,
    planks: Sequence[tuple[str, str]] = (),
    slug: str | None = None,
) -> Slate:
    name, mission = _clean_basics(name=name, mission=mission, deadline=deadline)
    _validate_rule(
        min_signatures=threshold_min_signatures,
        min_money_cents=threshold_min_money_cents,
        min_volunteer_hours=threshold_min_volunteer_hours,
    )
    cleaned_planks = _validate_planks(planks)
    if slug is not None:
        slug = slugify(slug)
        if not slug or Slate.objects.filter(slug=slug).exists():
            raise SlateError("invalid_slug", "That address is taken or empty.", field="slug")
    slate = Slate.objects.create(
        name=name,
        slug=slug or _unique_slug(name),
        mission=mission,
        deadline=deadline,
        threshold_min_signatures=threshold_min_signatures,
        threshold_min_money_cents=threshold_min_money_cents,
        threshold_min_volunteer_hours=threshold_min_volunteer_hours,
    )
    SlateCounterShard.objects.bulk_create(
        SlateCounterShard(slate=slate, shard=n) for n in range(settings.SLATE_COUNTER_SHARDS)
    )
    Plank.objects.bulk_create(
        Plank(slate=slate, position=i, title=title, summary=summary)
        for i, (title, summary) in enumerate(cleaned_planks, start=1)
    )
    SlateOrganizer.objects.create(slate=slate, user=created_by)
    return slate


def require_organizer(actor, slate: Slate) -> None:
    if not selectors.is_organizer(actor, slate):
        raise SlateError("forbidden", "Only this slate's organizers may do that.")


@transaction.atomic
def set_planks(*, slate: Slate, planks: Sequence[tuple[str, str]], actor) -> list[Plank]:
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError(
            "not_draft", "Planks are fixed once the slate is published.", field="planks"
        )
    return _write_planks(slate, planks)


def _write_planks(slate: Slate, planks: Sequence[tuple[str, str]]) -> list[Plank]:
    cleaned = _validate_planks(planks)
    slate.planks.all().delete()
    return Plank.objects.bulk_create(
        Plank(slate=slate, position=i, title=title, summary=summary)
        for i, (title, summary) in enumerate(cleaned, start=1)
    )


def replace_open_slate_planks(*, slate: Slate, planks: Sequence[tuple[str, str]]) -> list[Plank]:
    """Change an open slate's planks. Only ``candidates.agreements.revise_planks`` calls this:
    it holds the slate's lock, checks the organizer, and publishes the new agreement version
    (planks are inside the hashed agreement) in the same transaction."""
    if slate.state != SlateState.OPEN:
        raise SlateError(
            "slate_closed", "Planks change only while the slate is open.", field="planks"
        )
    if not planks:
        raise SlateError("no_planks", "An open slate keeps at least one plank.", field="planks")
    return _write_planks(slate, planks)


@transaction.atomic
def update_threshold_rule(
    *,
    slate: Slate,
    actor,
    min_signatures: int,
    min_money_cents: int = 0,
    min_volunteer_hours: int = 0,
) -> Slate:
    """Change the rule of a draft. An open slate's rule is part of what supporters agreed to."""
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError("not_draft", "The threshold rule is fixed once the slate is published.")
    _validate_rule(
        min_signatures=min_signatures,
        min_money_cents=min_money_cents,
        min_volunteer_hours=min_volunteer_hours,
    )
    slate.threshold_min_signatures = min_signatures
    slate.threshold_min_money_cents = min_money_cents
    slate.threshold_min_volunteer_hours = min_volunteer_hours
    slate.save(
        update_fields=[
            "threshold_min_signatures",
            "threshold_min_money_cents",
            "threshold_min_volunteer_hours",
            "updated_at",
        ]
    )
    return slate


@transaction.atomic
def update_draft(*, slate: Slate, actor, name: str, mission: str, deadline) -> Slate:
    """Change a draft's name, mission and deadline. Its address (slug) stays as created."""
    slate = lock_slate(slate.pk)
    require_organizer(actor, slate)
    if slate.state != SlateState.DRAFT:
        raise SlateError(
            "not_draft", "Use 'extend the deadline' once the slate is published.", field="name"
        )
    slate.name, slate.mission = _clean_basics(name=name, mission=mission, deadline=deadline)
    slate.deadline = deadline
    slate.save(update_fields=["name", "mission", "deadline", "updated_at"])
    return slate
