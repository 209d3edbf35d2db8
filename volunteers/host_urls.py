"""Pages that act for a campaign, an organizer or a partner organization: their own namespace,
so that accounts.middleware.RequireMFAMiddleware guards them like the organize pages."""

from django.urls import path

from . import room_views, views

app_name = "volunteer_hosts"
urlpatterns = [
    path("volunteer/campaign/", views.campaign, name="campaign"),
    # The signers' room (signers and their campaign staff) and what a signer shares there.
    path("volunteer/campaign/room/", room_views.room_settings, name="room-settings"),
    path("volunteer/slates/<slug:slug>/room/", room_views.signers_room, name="room"),
    path("volunteer/slates/<slug:slug>/events/", views.events, name="events"),
    path("volunteer/events/<int:pk>/", views.event, name="event"),
    path("volunteer/sign-ups/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("volunteer/slates/<slug:slug>/summary/", views.summary, name="summary"),
    path("volunteer/slates/<slug:slug>/summary.csv", views.summary_csv, name="summary-csv"),
]
