"""Link previews: Open Graph and Twitter card tags on the slate page, and the share picture
(a 1200×630 PNG of the slate's name and totals, cached by those figures, never a name)."""

import dataclasses
import io
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from PIL import Image

from slate import share_image
from slate.counters import apply_counts_delta
from slate.models import Slate
from slate.states import SlateState
from slate.totals import Counts
from tests.compliance.helpers import money_pledge
from tests.factories import (
    UserFactory,
    make_open_slate,
    make_partner_organization,
    slate_candidates,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


class MetaTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        key = attrs.get("property") or attrs.get("name")
        if tag == "meta" and key and (key.startswith("og:") or key.startswith("twitter:")):
            self.tags[key] = attrs.get("content", "")


def meta_tags(response) -> dict[str, str]:
    parser = MetaTags()
    parser.feed(response.content.decode())
    return parser.tags


def share_url(slate: Slate) -> str:
    return reverse("slate:share-image", args=[slate.slug])


def add_money(slate: Slate, cents: int) -> None:
    counts = Counts(money_pledged_cents=cents, money_pledge_count=1)
    apply_counts_delta(slate_id=slate.pk, counts=counts, breakdown={})


def test_slate_page_carries_open_graph_and_twitter_tags_with_absolute_urls():
    slate = make_open_slate(candidates=3, min_signatures=2)
    response = Client().get(slate.get_absolute_url() + "?ref=abcd1234")
    tags = meta_tags(response)

    assert tags["og:title"] == slate.name
    assert tags["og:description"] == slate.mission[:200]
    # Canonical: the supporter's ?ref= is not part of what a preview links to.
    assert tags["og:url"] == f"http://testserver{slate.get_absolute_url()}"
    assert re.fullmatch(rf"http://testserver{share_url(slate)}\?v=[0-9a-f]{{12}}", tags["og:image"])
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:image"] == tags["og:image"]
    assert slate.name in tags["og:image:alt"]
    # The tag's image URL answers with the picture.
    assert Client().get(tags["og:image"].removeprefix("http://testserver")).status_code == 200


def test_candidate_page_previews_with_their_slate_picture():
    slate = make_open_slate(candidates=3, min_signatures=2)
    candidate = slate_candidates(slate)[0]
    url = reverse("candidates:profile", args=[candidate.pk])
    tags = meta_tags(Client().get(url))

    assert tags["og:title"] == candidate.full_name
    assert tags["og:url"] == f"http://testserver{url}"
    assert tags["og:image"].startswith(f"http://testserver{share_url(slate)}?v=")
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["twitter:card"] == "summary_large_image"


def test_organization_page_previews_with_the_picture_of_a_slate_it_endorses():
    slate = make_open_slate(candidates=3, min_signatures=2)
    organization = make_partner_organization(name="Teachers United", endorse=slate)
    url = reverse("orgs:detail", args=[organization.slug])
    tags = meta_tags(Client().get(url))

    assert tags["og:title"] == "Teachers United"
    assert tags["og:url"] == f"http://testserver{url}"
    assert tags["og:image"].startswith(f"http://testserver{share_url(slate)}?v=")
    assert tags["twitter:card"] == "summary_large_image"


def test_unverified_organization_page_shows_no_slate_picture_even_to_its_admin():
    slate = make_open_slate(candidates=3, min_signatures=2)
    admin = UserFactory()
    organization = make_partner_organization(
        name="Not Yet", endorse=slate, admin=admin, verified=False
    )
    client = Client()
    client.force_login(admin)
    tags = meta_tags(client.get(reverse("orgs:detail", args=[organization.slug])))

    assert tags["og:title"] == "Not Yet"
    assert "og:image" not in tags
    assert tags["twitter:card"] == "summary"


def test_share_image_url_on_the_page_changes_when_the_money_total_changes():
    slate = make_open_slate(candidates=3, min_signatures=2)
    before = meta_tags(Client().get(slate.get_absolute_url()))["og:image"]
    add_money(slate, 5_000)
    after = meta_tags(Client().get(slate.get_absolute_url()))["og:image"]
    assert before != after


def test_share_image_is_a_1200_by_630_png_with_cache_headers():
    slate = make_open_slate(candidates=3, min_signatures=2)
    response = Client().get(share_url(slate))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=300"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    image.verify()


def test_share_image_answers_304_to_its_own_etag():
    slate = make_open_slate(candidates=3, min_signatures=2)
    etag = Client().get(share_url(slate))["ETag"]
    response = Client().get(share_url(slate), headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""


def test_share_image_is_drawn_once_then_served_from_cache_and_redrawn_when_money_changes(
    monkeypatch,
):
    slate = make_open_slate(candidates=3, min_signatures=2)
    drawn = []
    real_render = share_image.render_share_image

    def counting_render(figures):
        drawn.append(figures)
        return real_render(figures)

    monkeypatch.setattr(share_image, "render_share_image", counting_render)
    client = Client()

    first = client.get(share_url(slate))
    second = client.get(share_url(slate))
    assert len(drawn) == 1
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]

    add_money(slate, 12_500)
    third = client.get(share_url(slate))
    assert len(drawn) == 2
    assert drawn[-1].money_cents == 12_500
    assert third["ETag"] != first["ETag"]
    assert third.content != first.content

    client.get(share_url(slate))
    assert len(drawn) == 2


def test_unknown_slug_is_404():
    assert Client().get(reverse("slate:share-image", args=["no-such-slate"])).status_code == 404


def test_draft_slate_image_is_not_public_even_to_its_organizer():
    slate = make_open_slate(candidates=3, min_signatures=2)
    Slate.objects.filter(pk=slate.pk).update(state=SlateState.DRAFT)
    organizer = slate.organizers.get()
    client = Client()
    client.force_login(organizer)
    assert client.get(share_url(slate)).status_code == 404
    assert Client().get(share_url(slate)).status_code == 404


def test_renderer_takes_only_the_slate_figures():
    assert [field.name for field in dataclasses.fields(share_image.ShareFigures)] == [
        "name",
        "money_cents",
        "volunteer_hours",
        "signed",
        "invited",
        "needed",
    ]


def test_no_supporter_name_reaches_the_picture(monkeypatch):
    slate = make_open_slate(candidates=3, min_signatures=2)
    supporter = UserFactory(first_name="Zenobia", last_name="Quillfeather")
    money_pledge(
        slate,
        supporter,
        7_700,
        donor_details={
            "first_name": "Zenobia", "last_name": "Quillfeather", "street_1": "1 Main St",
            "city": "Portland", "state": "OR", "zip_code": "97201", "employer": "None",
            "occupation": "Poet",
        },
    )  # fmt: skip
    drawn = []
    monkeypatch.setattr(share_image, "render_share_image", lambda f: drawn.append(f) or b"png")
    Client().get(share_url(slate))

    (figures,) = drawn
    assert "Zenobia" not in repr(figures) and "Quillfeather" not in repr(figures)
    assert figures.name == slate.name


def test_a_long_name_is_wrapped_and_cut_to_fit():
    figures = share_image.ShareFigures(
        name="Working Families Coordinated Slate " * 6, money_cents=1, volunteer_hours=1,
        signed=1, invited=2, needed=2,
    )  # fmt: skip
    draw = share_image.ImageDraw.Draw(share_image.Image.new("RGB", (10, 10)))
    font, lines = share_image._fit_name(draw, figures.name, share_image.WIDTH - 2 * 64)
    assert len(lines) == share_image.NAME_MAX_LINES
    assert lines[-1].endswith("…")
    assert all(draw.textlength(line, font=font) <= share_image.WIDTH - 128 for line in lines)
    image = Image.open(io.BytesIO(share_image.render_share_image(figures)))
    assert image.size == (1200, 630)


def test_without_dejavu_the_picture_is_drawn_in_pillows_own_font(monkeypatch):
    real_truetype = share_image.ImageFont.truetype

    def no_such_font(font, *args, **kwargs):
        if isinstance(font, str | bytes):  # a file name; Pillow's own font is read from memory
            raise OSError("cannot open resource")
        return real_truetype(font, *args, **kwargs)

    # Pillow looks in the system's font folders too: no font file anywhere, as in a slim image.
    monkeypatch.setattr(share_image.ImageFont, "truetype", no_such_font)
    share_image._font.cache_clear()
    try:
        figures = share_image.ShareFigures(
            name="A slate", money_cents=100, volunteer_hours=2, signed=0, invited=3, needed=2
        )
        assert share_image._font(40).getname()[0] != "DejaVu Sans"
        image = Image.open(io.BytesIO(share_image.render_share_image(figures)))
        assert image.size == (1200, 630)
    finally:
        share_image._font.cache_clear()
