"""The public pages' short-lived cache (slate.page_cache): anonymous visitors share one render of
the slate page, its widget and its progress fragment; nobody is ever served another person's
page (their name, 'You signed on', a CSRF token)."""

import time

import pytest
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory

from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from slate.page_cache import CACHE_HEADER, public_page_cache
from tests.factories import UserFactory, make_open_slate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.SLATE_PUBLIC_PAGE_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def pledge(slate, cents: int) -> None:
    supporter = UserFactory()
    with transaction.atomic():
        created = pledge_intake.create_money_pledge(
            supporter=supporter, slate=slate, amount_cents=cents, attestations=ATTESTED
        )
    pledge_services.commit_money_pledge(pledge=created)


PAGES = [
    ("detail", "/slates/{slug}/"),
    ("progress", "/slates/{slug}/progress/"),
    ("widget", "/embed/slates/{slug}/"),
]


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_a_second_anonymous_reader_costs_no_query(client, django_assert_num_queries, name, path):
    slate = make_open_slate()
    url = path.format(slug=slate.slug)
    first = client.get(url)
    assert first.status_code == 200
    assert first[CACHE_HEADER] == "miss"
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    assert second[CACHE_HEADER] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_the_widget_from_the_cache_may_still_be_framed_by_any_site(client):
    slate = make_open_slate()
    client.get(f"/embed/slates/{slate.slug}/")
    cached = client.get(f"/embed/slates/{slate.slug}/")
    assert cached[CACHE_HEADER] == "hit"
    assert "X-Frame-Options" not in cached
    assert "frame-ancestors *" in cached["Content-Security-Policy"]
    page = client.get(f"/slates/{slate.slug}/")
    client.get(f"/slates/{slate.slug}/")
    assert client.get(f"/slates/{slate.slug}/")["X-Frame-Options"] == "DENY"
    assert page["X-Frame-Options"] == "DENY"


def test_each_partners_widget_links_through_its_own_referral(client):
    slate = make_open_slate()
    for org in ("local-99", "civic-club", "local-99"):
        body = client.get(f"/embed/slates/{slate.slug}/?org={org}").content.decode()
        assert f"/r/{org}/{slate.slug}/" in body
    assert client.get(f"/embed/slates/{slate.slug}/?org=local-99")[CACHE_HEADER] == "hit"


def test_a_bad_widget_is_not_kept(client):
    slate = make_open_slate()
    for _ in range(2):
        response = client.get(f"/embed/slates/{slate.slug}/?org=not%20a%20slug")
        assert response.status_code == 400
        assert CACHE_HEADER not in response


def test_figures_are_at_most_the_cache_lifetime_old(client, settings):
    settings.SLATE_PUBLIC_PAGE_CACHE_SECONDS = 1
    slate = make_open_slate()
    url = f"/slates/{slate.slug}/progress/"
    assert "0 money pledges" in client.get(url).content.decode()
    pledge(slate, 12_345)
    kept = client.get(url)  # from the cache, a second old at most
    assert kept[CACHE_HEADER] == "hit"
    assert "0 money pledges" in kept.content.decode()
    time.sleep(1.1)
    fresh = client.get(url)
    assert fresh[CACHE_HEADER] == "miss"
    assert "1 money pledges" in fresh.content.decode()
    assert "$123.45" in fresh.content.decode()


def test_while_one_request_renders_the_others_get_the_page_it_replaces(client, settings):
    """At expiry a surge is not a thousand renders: the request that takes the render lock
    renders; the others are served the stale page (never older than twice the lifetime)."""
    settings.SLATE_PUBLIC_PAGE_CACHE_SECONDS = 1
    slate = make_open_slate()
    url = f"/slates/{slate.slug}/progress/"
    client.get(url)
    pledge(slate, 500)
    time.sleep(1.1)
    [key] = [k for k in cache._cache if "slate-page:" in k and not k.endswith(":render")]
    lock = key.split(":", 2)[-1] + ":render"
    assert cache.add(lock, 1, 10)  # another request is rendering
    stale = client.get(url)
    assert stale[CACHE_HEADER] == "stale"
    assert "0 money pledges" in stale.content.decode()
    cache.delete(lock)
    fresh = client.get(url)
    assert fresh[CACHE_HEADER] == "miss"
    assert "1 money pledges" in fresh.content.decode()


def test_with_no_page_yet_a_request_waits_briefly_for_the_render_under_way(
    client, settings, monkeypatch
):
    from slate import page_cache

    monkeypatch.setattr(page_cache, "WAIT_FOR_RENDER_SECONDS", 0.2)
    slate = make_open_slate()
    url = f"/embed/slates/{slate.slug}/"
    client.get(url)
    [key] = [k for k in cache._cache if "slate-page:" in k]
    cache.clear()
    lock = key.split(":", 2)[-1] + ":render"
    assert cache.add(lock, 1, 10)  # another request is rendering and never finishes
    waited = client.get(url)
    assert waited[CACHE_HEADER] == "miss"  # it gave up waiting and rendered itself
    assert cache.get(lock) == 1  # and left the other request's lock alone


def test_off_when_the_setting_is_zero(client, settings):
    settings.SLATE_PUBLIC_PAGE_CACHE_SECONDS = 0
    slate = make_open_slate()
    for _ in range(2):
        assert CACHE_HEADER not in client.get(f"/slates/{slate.slug}/")


def test_a_logged_in_supporters_page_is_never_kept_nor_served_to_others(client):
    """The signed-in supporter's page names them and says they signed on: it must reach nobody
    else, and they must never be served the anonymous page either."""
    slate = make_open_slate()
    supporter = UserFactory(email="jane.supporter@example.org")
    pledge_intake.sign_on(supporter=supporter, slate=slate)
    url = f"/slates/{slate.slug}/"

    client.force_login(supporter)
    mine = client.get(url)
    assert CACHE_HEADER not in mine
    body = mine.content.decode()
    assert "jane.supporter@example.org" in body
    assert 'data-testid="signed-on"' in body
    assert "csrfmiddlewaretoken" in body  # the log-out form

    client.logout()
    client.cookies.clear()
    for expected in ("miss", "hit"):
        anonymous = client.get(url)
        assert anonymous[CACHE_HEADER] == expected
        body = anonymous.content.decode()
        assert "jane.supporter@example.org" not in body
        assert 'data-testid="signed-on"' not in body
        assert "csrfmiddlewaretoken" not in body

    client.force_login(supporter)
    again = client.get(url)  # the anonymous page is in the cache now
    assert CACHE_HEADER not in again
    assert "jane.supporter@example.org" in again.content.decode()
    assert 'data-testid="signed-on"' in again.content.decode()


def test_a_visitor_the_site_remembers_gets_a_fresh_page(client):
    """A share link's ?ref= is written into the visitor's session: that request runs the view,
    and so does every later one carrying the session cookie."""
    slate = make_open_slate()
    url = f"/slates/{slate.slug}/"
    client.get(url)  # kept for the anonymous
    referred = client.get(url + "?ref=abcd1234")
    assert CACHE_HEADER not in referred
    assert "sessionid" in client.cookies
    assert CACHE_HEADER not in client.get(url)


def test_a_page_that_used_a_csrf_token_or_set_a_cookie_is_not_kept():
    factory = RequestFactory()
    calls = []

    @public_page_cache()
    def with_form(request, slug):
        calls.append(slug)
        return HttpResponse(f"<input name=csrfmiddlewaretoken value={get_token(request)}>")

    @public_page_cache()
    def with_cookie(request, slug):
        calls.append(slug)
        response = HttpResponse("hello")
        response.set_cookie("hello", "you")
        return response

    for view, slug in ((with_form, "a"), (with_cookie, "b")):
        for _ in range(2):
            request = factory.get(f"/{slug}/")
            response = view(request, slug)
            assert CACHE_HEADER not in response
    assert calls == ["a", "a", "b", "b"]


def test_a_visitor_with_a_message_waiting_gets_a_fresh_page(client):
    """Messages are per visitor (cookie storage for the anonymous): never kept or skipped."""
    factory = RequestFactory()
    calls = []

    @public_page_cache()
    def page(request, slug):
        calls.append(slug)
        return HttpResponse("page")

    plain = factory.get("/x/")
    page(plain, "x")
    waiting = factory.get("/x/")
    from django.contrib.messages.storage.fallback import FallbackStorage

    waiting.session = {}
    waiting._messages = FallbackStorage(waiting)
    messages.info(waiting, "Your pledge is cancelled")
    assert CACHE_HEADER not in page(waiting, "x")
    assert page(factory.get("/x/"), "x")[CACHE_HEADER] == "hit"
    assert calls == ["x", "x"]


def test_each_host_gets_its_own_absolute_links(client, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    slate = make_open_slate()
    url = f"/slates/{slate.slug}/"
    client.get(url, HTTP_HOST="one.example")
    other = client.get(url, HTTP_HOST="two.example")
    assert other[CACHE_HEADER] == "miss"
    assert "http://two.example/slates/" in other.content.decode()
    assert "one.example" not in other.content.decode()


# --- The logged-in slate page: the parts everyone sees alike are shared -----------------------

# A logged-in supporter's slate page once its shared parts are in the cache: the slate, the
# user, the header's roles and whether they signed on (the session is read from the cache).
# Was 26 when every part was read for every supporter.
LOGGED_IN_PAGE_QUERIES = 4


def test_a_logged_in_supporters_page_shares_only_the_parts_everyone_sees(client):
    """Two supporters, one signed on: each gets their own header (name, CSRF token) and their
    own Sign on button, around the parts rendered once for both."""
    slate = make_open_slate()
    jane = UserFactory(email="jane.supporter@example.org")
    pledge_intake.sign_on(supporter=jane, slate=slate)
    omar = UserFactory(email="omar.supporter@example.org")
    url = f"/slates/{slate.slug}/"

    client.force_login(jane)
    janes = client.get(url).content.decode()
    janes_token = client.cookies["csrftoken"].value
    client.logout()
    client.force_login(omar)
    omars = client.get(url).content.decode()

    assert "jane.supporter@example.org" in janes
    assert 'data-testid="signed-on"' in janes
    assert "omar.supporter@example.org" in omars
    assert "jane.supporter@example.org" not in omars
    assert 'data-testid="signed-on"' not in omars
    assert janes_token not in omars
    assert "csrfmiddlewaretoken" in omars  # Omar's own log-out form
    # The shared parts are the same for both: the slate's name, mission, candidates.
    assert slate.name in omars
    assert janes.count("<section") == omars.count("<section")


def test_the_slate_pages_shared_parts_get_nothing_of_the_visitor(client, settings, tmp_path):
    """Through the view: a shared part whose template asks for everything a visitor could
    leak (their user, the CSRF token, their messages, their URL) renders none of it, while
    the rest of the page is still theirs."""
    override = tmp_path / "slate"
    override.mkdir()
    (override / "_detail_rest.html").write_text(
        "SHARED[{{ request.user.email }}][{{ user.email }}][{% csrf_token %}]"
        "[{{ csrf_token }}][{% for m in messages %}{{ m }}{% endfor %}]"
        "[{{ request.get_full_path }}]SHARED"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    slate = make_open_slate(candidates=2, min_signatures=2)
    visitor = UserFactory(email="visitor.only@example.org")
    client.force_login(visitor)
    page = client.get(f"{slate.get_absolute_url()}?ref=abc123").content.decode()
    assert "SHARED[][][][][][]SHARED" in page
    assert "visitor.only@example.org" in page  # the visitor's own header


def test_the_shared_parts_are_rendered_without_the_visitor():
    """Whatever a shared part's template asks of the request, it gets no user, no CSRF token:
    only the site's address."""
    from django.template import engines

    from slate.page_cache import SiteAddress

    request = RequestFactory().get("/slates/x/")
    request.user = UserFactory(email="hidden@example.org")
    template = engines["django"].from_string(
        "[{{ request.user.email }}][{% csrf_token %}][{{ request.build_absolute_uri }}]"
    )
    rendered = template.render({"request": SiteAddress(request)})
    # Not even the visitor's own URL (its ?ref= code would be served to everyone).
    assert rendered == "[][][]"
    site = SiteAddress(RequestFactory().get("/slates/x/?ref=jane"))
    assert site.build_absolute_uri("/slates/x/share.png") == "http://testserver/slates/x/share.png"
    with pytest.raises(ValueError):
        site.build_absolute_uri("")


def test_a_logged_in_supporter_reads_the_slate_page_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    slate = make_open_slate()
    for cents in (500, 700):
        pledge(slate, cents)
    supporter = UserFactory()
    client.force_login(supporter)
    url = f"/slates/{slate.slug}/"
    assert client.get(url).status_code == 200  # renders the shared parts
    with django_assert_max_num_queries(LOGGED_IN_PAGE_QUERIES):
        again = client.get(url)
    assert again.status_code == 200
    assert ">$12<" in again.content.decode()  # the figures are on it


def test_a_public_slates_parts_are_kept_and_a_drafts_are_not(client):
    """A public slate's shared parts are kept for the cache's lifetime (a new mission shows
    after it); an organizer's preview of a draft is rendered fresh each time, kept for
    nobody."""
    from datetime import timedelta

    from django.utils import timezone

    from demo import builders
    from slate.models import Slate

    organizer = UserFactory()
    draft = builders.draft_slate(
        organizer=organizer, name="Quiet draft", deadline=timezone.now() + timedelta(days=30)
    )
    public = make_open_slate()
    client.force_login(organizer)
    for slate in (draft, public):
        assert client.get(f"/slates/{slate.slug}/").status_code == 200
        Slate.objects.filter(pk=slate.pk).update(mission="A changed mission")
    assert "A changed mission" in client.get(f"/slates/{draft.slug}/").content.decode()
    assert "A changed mission" not in client.get(f"/slates/{public.slug}/").content.decode()
