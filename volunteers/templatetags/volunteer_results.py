"""Volunteer hours for a locked slate's results on the slate page (see escrow's releases)."""

from django import template

from volunteers import hours

register = template.Library()


@register.simple_tag
def slate_hours(slate):
    return hours.hours_for_slate(slate)
