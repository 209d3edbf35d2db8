"""Slate's URLs plus the bare view (the baseline the load test compares intake with)."""

from django.urls import path

from slate.urls import handler400
from slate.urls import urlpatterns as slate_urlpatterns

from . import views

__all__ = ["handler400", "urlpatterns"]

urlpatterns = [path("bench/bare-pledge", views.bare_pledge, name="bench-bare-pledge")]
urlpatterns += slate_urlpatterns
