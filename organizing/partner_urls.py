"""URL namespace ``orgs``: partner organizations' pages, under /orgs/."""

from django.urls import path

from . import partner_views as views

app_name = "orgs"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("<slug:slug>/endorse/", views.endorse, name="endorse"),
    path("<slug:slug>/endorsements/<slug:slate_slug>/withdraw/", views.withdraw, name="withdraw"),
]
