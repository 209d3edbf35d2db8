"""Formatting of integer cents, only at the edge (templates)."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """12345 -> "$123.45"; whole dollars drop the cents: 500000 -> "$5,000"."""
    if cents is None or cents == "":
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    if rest:
        return f"{sign}${intcomma(whole)}.{rest:02d}"
    return f"{sign}${intcomma(whole)}"
