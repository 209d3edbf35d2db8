from django.urls import path

from . import views

app_name = "volunteers"
urlpatterns = [
    path("slates/<slug:slug>/volunteer/", views.pledge, name="pledge"),
    path("volunteer/", views.home, name="home"),
    path("volunteer/matches/<int:pk>/", views.change_match, name="change-match"),
    path("volunteer/pledges/<int:pk>/consent/", views.consent, name="consent"),
    path("volunteer/slates/<slug:slug>/shifts/", views.shift_list, name="shifts"),
    path("volunteer/shifts/<int:pk>/sign-up/", views.sign_up, name="sign-up"),
    path("volunteer/sign-ups/<int:pk>/cancel/", views.cancel_signup, name="cancel-signup"),
    path("volunteer/campaign/", views.campaign, name="campaign"),
    path("volunteer/slates/<slug:slug>/events/", views.events, name="events"),
    path("volunteer/events/<int:pk>/", views.event, name="event"),
    path("volunteer/sign-ups/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("volunteer/slates/<slug:slug>/summary/", views.summary, name="summary"),
    path("volunteer/slates/<slug:slug>/summary.csv", views.summary_csv, name="summary-csv"),
]
