"""Pages that act for a campaign, an organizer or a partner organization: their own namespace,
so that accounts.middleware.RequireMFAMiddleware guards them like the organize pages."""

from django.urls import path

from . import views

app_name = "volunteer_hosts"
urlpatterns = [
    path("volunteer/campaign/", views.campaign, name="campaign"),
    path("volunteer/slates/<slug:slug>/events/", views.events, name="events"),
    path("volunteer/events/<int:pk>/", views.event, name="event"),
    path("volunteer/sign-ups/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("volunteer/slates/<slug:slug>/summary/", views.summary, name="summary"),
    path("volunteer/slates/<slug:slug>/summary.csv", views.summary_csv, name="summary-csv"),
]
