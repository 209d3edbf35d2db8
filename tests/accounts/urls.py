"""The project's URLs plus stand-in pages in every guarded namespace, so the two-factor rule
is tested whether or not a namespace has real pages yet."""

from django.http import HttpResponse
from django.urls import include, path

from slate.urls import urlpatterns as project_patterns


def stand_in(request):
    return HttpResponse("acting page")


def guarded(namespace: str):
    return path(f"test-{namespace}/", include(([path("", stand_in, name="page")], namespace)))


urlpatterns = [
    guarded("organize"),
    guarded("orgs"),
    *project_patterns,
]
