"""Link previews (Open Graph, Twitter cards): the share picture of a slate, for <head>."""

from dataclasses import dataclass

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse

from slate.selectors import slate_progress
from slate.share_image import share_figures

from .money import dollars

register = template.Library()


@dataclass(frozen=True)
class SharePreview:
    image_url: str
    image_alt: str


@register.simple_tag(takes_context=True)
def slate_share_preview(context, slate) -> SharePreview:
    """The absolute URL of the slate's share picture, versioned by its figures so that a
    site which caches previews by URL fetches the new picture when a total changes."""
    figures = share_figures(slate_progress(slate))
    path = reverse("slate:share-image", args=[slate.slug]) + f"?v={figures.digest[:12]}"
    alt = (
        f"{figures.name}: {dollars(figures.money_cents)} and "
        f"{intcomma(figures.volunteer_hours)} volunteer hours waiting; "
        f"{figures.signed} of {figures.invited} candidates signed"
    )
    return SharePreview(image_url=context["request"].build_absolute_uri(path), image_alt=alt)
