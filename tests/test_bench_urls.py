"""The load test's bare view (bench/load) answers only in the bench's own settings: Slate's
URLs, apps and middleware never include it."""

import pytest
from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from bench.load import urls as bench_urls
from bench.load import views as bench_views


def views_of(patterns) -> set:
    found = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found |= views_of(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            found.add(pattern.callback)
    return found


def test_the_bare_view_is_not_among_slates_urls():
    assert settings.ROOT_URLCONF == "slate.urls"
    assert bench_views.bare_pledge not in views_of(get_resolver().url_patterns)
    with pytest.raises(Resolver404):
        resolve("/bench/bare-pledge")


def test_nor_are_the_benchs_app_and_middleware_in_the_settings():
    assert not any(app.startswith("bench") for app in settings.INSTALLED_APPS)
    assert not any(name.startswith("bench") for name in settings.MIDDLEWARE)


@pytest.mark.urls("bench.load.urls")
def test_the_bench_urls_are_slates_plus_the_bare_view():
    assert resolve("/bench/bare-pledge").func is bench_views.bare_pledge
    assert views_of(bench_urls.urlpatterns) - views_of(get_resolver("slate.urls").url_patterns) == {
        bench_views.bare_pledge
    }
