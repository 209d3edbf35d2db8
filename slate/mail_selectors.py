"""Reads for the email preferences page."""

from dataclasses import dataclass

from .mail import OPTIONAL, Category, normalize
from .models import EmailOptOut, OutboundEmail, Slate

# The kinds every address is offered; candidates' news only to those who get it.
SUPPORTER_KINDS = [c for c in OPTIONAL if c != Category.CANDIDATE_NEWS]


@dataclass(frozen=True)
class Option:
    category: str
    label: str
    wanted: bool
    field: str  # the checkbox's name


@dataclass(frozen=True)
class Row:
    slate_id: int | None  # None: every slate
    title: str
    options: list[Option]


@dataclass(frozen=True)
class Choices:
    rows: list[Row]


def preference_choices(address: str, slate_id: int | None, category: str | None) -> Choices:
    """The global row, then one row per slate the address hears about (or turned something
    off for, or whose email the link came in)."""
    address = normalize(address)
    off = set(EmailOptOut.objects.filter(address=address).values_list("slate_id", "category"))
    heard = set(
        OutboundEmail.objects.filter(to=address)
        .exclude(category=Category.TRANSACTIONAL)
        .values_list("slate_id", "category")
        .distinct()
    )
    kinds = list(SUPPORTER_KINDS)
    if category == Category.CANDIDATE_NEWS or any(
        c == Category.CANDIDATE_NEWS for _, c in heard | off
    ):
        kinds.append(Category.CANDIDATE_NEWS)
    slate_ids = {s for s, _ in heard | off if s is not None}
    if slate_id is not None:
        slate_ids.add(slate_id)
    slates = Slate.objects.filter(pk__in=slate_ids).order_by("name")

    def options(scope_id, prefix):
        return [
            Option(
                category=kind,
                label=Category(kind).label,
                wanted=(scope_id, kind) not in off,
                field=f"{prefix}:{kind}",
            )
            for kind in kinds
        ]

    rows = [Row(slate_id=None, title="Every slate", options=options(None, "all"))]
    rows += [
        Row(slate_id=s.pk, title=s.name, options=options(s.pk, f"slate-{s.pk}")) for s in slates
    ]
    return Choices(rows=rows)
