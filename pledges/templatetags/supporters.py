"""What the slate's own pages show of its supporters, without the slate app (below pledges)
importing pledges: the slate page loads this library."""

from django import template

from pledges import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def signed_on(context, slate) -> bool:
    """Whether the visitor has signed on to ``slate`` (the Sign on button says so)."""
    request = context.get("request")
    return selectors.is_signed_on(getattr(request, "user", None), slate)


@register.inclusion_tag("pledges/_public_roll.html")
def public_roll(slate):
    return {"roll": selectors.public_roll(slate), "slate": slate}
