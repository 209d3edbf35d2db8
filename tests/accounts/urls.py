"""The project's URLs plus a stand-in page at /test-<namespace>/ in each guarded namespace,
so the two-factor rule is tested in every one of them, whether or not it has real pages yet.
The project's patterns come first, so reverse() still finds the real pages' names."""

from django.http import HttpResponse
from django.urls import include, path

from slate.urls import urlpatterns as project_patterns


def stand_in(request):
    return HttpResponse("acting page")


def guarded(namespace: str):
    inner = include(([path("", stand_in, name="page")], "standin"))
    return path(f"test-{namespace}/", include(([path("", inner)], namespace)))


urlpatterns = [
    *project_patterns,
    guarded("organize"),
    guarded("orgs"),
]
