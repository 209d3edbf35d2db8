from django.urls import path

from . import room_views, views

app_name = "volunteers"
urlpatterns = [
    path("slates/<slug:slug>/volunteer/", views.pledge, name="pledge"),
    path("volunteer/", views.home, name="home"),
    path("volunteer/matches/<int:pk>/", views.change_match, name="change-match"),
    path("volunteer/pledges/<int:pk>/consent/", views.consent, name="consent"),
    path("volunteer/slates/<slug:slug>/shifts/", views.shift_list, name="shifts"),
    path("volunteer/shifts/<int:pk>/sign-up/", views.sign_up, name="sign-up"),
    path("volunteer/sign-ups/<int:pk>/cancel/", views.cancel_signup, name="cancel-signup"),
    # A campaign's invitation to its staff, for people who may have no account yet: outside
    # the two-factor-guarded namespace, since accepting grants nothing the guarded pages
    # do not ask two-factor for.
    path("volunteer/staff/join/<str:token>/", room_views.staff_join, name="staff-join"),
]
