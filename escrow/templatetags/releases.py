"""The money part of a locked slate's results, for the slate page (the slate app, below
escrow, loads this library instead of importing escrow)."""

from django import template

from candidates.models import Candidate
from escrow import selectors

register = template.Library()


@register.inclusion_tag("escrow/_release_results.html")
def release_results(slate):
    figures = selectors.released_by_candidate(slate.pk)
    names = dict(Candidate.objects.filter(pk__in=figures).values_list("pk", "full_name"))
    rows = [(names.get(pk, "—"), released, paid) for pk, (released, paid) in figures.items()]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return {
        "rows": rows,
        "released_total": sum(row[1] for row in rows),
        "paid_total": sum(row[2] for row in rows),
    }
