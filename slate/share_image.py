"""The picture a link to a slate unfurls into (og:image): a 1200×630 PNG drawn with Pillow.

The renderer sees only ``ShareFigures`` (the slate's name and its totals), never a pledge or a
person, so no supporter's name can reach the picture. Pictures are cached under a key made of
those figures: when a total changes the key (and the ETag) changes and the next request draws
a new picture; while nothing changes, every request is served from the cache without drawing.
"""

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

from .selectors import SlateProgress
from .templatetags.money import dollars

WIDTH, HEIGHT = 1200, 630
MARGIN = 64
# Bump when the drawing changes, so cached pictures of the old design are not served.
RENDER_VERSION = 1
CACHE_SECONDS = 7 * 24 * 3600  # a key is only reused while the figures stay the same

# Debian's fonts-dejavu-core (Pillow also looks for the file in the system's font folders);
# where absent (the slim Docker image), Pillow's own scalable font.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
INK, MUTED, ACCENT, BACKGROUND, TRACK = "#1d1d27", "#5b5b6b", "#5b2bd6", "#fbfaf7", "#e4e1d8"

NAME_SIZES = (80, 72, 64, 56, 50, 44, 40)  # tried largest first until the name fits
NAME_MAX_LINES = 3


@dataclass(frozen=True)
class ShareFigures:
    """Everything the picture shows. Nothing here can hold a supporter's name."""

    name: str
    money_cents: int
    volunteer_hours: int
    signed: int
    invited: int
    needed: int

    @property
    def digest(self) -> str:
        payload = json.dumps([RENDER_VERSION, asdict(self)], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class SharePicture:
    png: bytes
    etag: str


def share_figures(progress: SlateProgress) -> ShareFigures:
    return ShareFigures(
        name=progress.slate.name,
        money_cents=progress.counts.money_pledged_cents,
        volunteer_hours=progress.counts.volunteer_hours,
        signed=progress.signed,
        invited=progress.invited,
        needed=progress.needed,
    )


def share_picture(figures: ShareFigures) -> SharePicture:
    """The cached picture for these figures, drawn on the first request for them."""
    key = f"slate:share-image:{figures.digest}"
    png = cache.get(key)
    if png is None:
        png = render_share_image(figures)
        cache.set(key, png, CACHE_SECONDS)
    return SharePicture(png=png, etag=f'"{figures.digest[:32]}"')


@lru_cache(maxsize=32)
def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    filename = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(DEJAVU_DIR / filename), size)
    except OSError:
        return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken between characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if draw.textlength(line + char, font=font) > width and line:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def _fit_name(draw: ImageDraw.ImageDraw, name: str, width: int) -> tuple[object, list[str]]:
    """The largest size at which the name fits in NAME_MAX_LINES lines; at the smallest size a
    name still too long is cut after the last line with an ellipsis."""
    for size in NAME_SIZES:
        font = _font(size, bold=True)
        lines = _wrap(draw, name, font, width)
        if len(lines) <= NAME_MAX_LINES:
            return font, lines
    lines = lines[:NAME_MAX_LINES]
    last = lines[-1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return font, lines


def render_share_image(figures: ShareFigures) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    text_width = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, 12), fill=ACCENT)

    draw.text((MARGIN, 48), "Slate", font=_font(34, bold=True), fill=ACCENT)

    name_font, name_lines = _fit_name(draw, figures.name, text_width)
    line_height = round(name_font.size * 1.18)
    y = 112
    for line in name_lines:
        draw.text((MARGIN, y), line, font=name_font, fill=INK)
        y += line_height

    hours = intcomma(figures.volunteer_hours)
    waiting = f"{dollars(figures.money_cents)} and {hours} volunteer hours waiting"
    waiting_font = _font(44, bold=True)
    if draw.textlength(waiting, font=waiting_font) > text_width:
        waiting_font = _font(34, bold=True)
    draw.text((MARGIN, 400), waiting, font=waiting_font, fill=INK)

    signed = f"{figures.signed} of {figures.invited} candidates signed · {figures.needed} needed"
    draw.text((MARGIN, 466), signed, font=_font(34), fill=MUTED)

    bar_top, bar_bottom = 528, 548
    draw.rounded_rectangle((MARGIN, bar_top, WIDTH - MARGIN, bar_bottom), 10, fill=TRACK)
    share = min(1.0, figures.signed / figures.needed) if figures.needed else 1.0
    if share > 0:
        bar_right = MARGIN + max(20, round(text_width * share))
        draw.rounded_rectangle((MARGIN, bar_top, bar_right, bar_bottom), 10, fill=ACCENT)

    footer = "Money, hours and names that unlock only when candidates work together."
    draw.text((MARGIN, 572), footer, font=_font(26), fill=MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
