"""URL namespace ``organize``: every organizer page, under /organize/ (MFA applies here)."""

from django.urls import path

from . import views

app_name = "organize"
urlpatterns = [
    path("", views.index, name="index"),
    path("slates/<slug:slug>/", views.dashboard, name="dashboard"),
    path("slates/<slug:slug>/live/", views.dashboard_live, name="live"),
    path("slates/<slug:slug>/export/pledges.csv", views.export_pledges, name="export-pledges"),
    path(
        "slates/<slug:slug>/export/volunteers.csv",
        views.export_volunteers,
        name="export-volunteers",
    ),
]
