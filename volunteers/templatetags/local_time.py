"""Shift times in the time zone of their place, with the zone named: ``{% shift_time shift %}``
renders "Sat 12 Oct 2026, 10:00–13:00 EDT"."""

from zoneinfo import ZoneInfo

from django import template
from django.utils import dateformat

register = template.Library()


def shift_zone(shift) -> ZoneInfo:
    return ZoneInfo(getattr(shift, "time_zone", "") or "UTC")


@register.simple_tag
def shift_time(shift, start_format: str = "D j M Y, H:i") -> str:
    zone = shift_zone(shift)
    starts = shift.starts_at.astimezone(zone)
    ends = shift.ends_at.astimezone(zone)
    end_format = "H:i T" if starts.date() == ends.date() else "D j M, H:i T"
    return f"{dateformat.format(starts, start_format)}–{dateformat.format(ends, end_format)}"
