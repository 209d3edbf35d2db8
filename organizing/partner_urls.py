"""URL namespace ``orgs``: partner organizations' pages, under /orgs/."""

from django.urls import path

from . import partner_views as views

app_name = "orgs"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<slug:organization_slug>/", views.detail, name="detail"),
    path("<slug:organization_slug>/dashboard/", views.dashboard, name="dashboard"),
    path("<slug:organization_slug>/codes/", views.codes, name="codes"),
    path("<slug:organization_slug>/figures.csv", views.export_figures, name="export-figures"),
    path("<slug:organization_slug>/logo/", views.logo, name="logo"),
    path("<slug:organization_slug>/logo.png", views.logo_png, name="logo-png"),
    # Public: the organization's own page for a slate it endorses (its links land here).
    path("<slug:organization_slug>/slates/<slug:slug>/", views.slate_page, name="slate"),
    path("<slug:organization_slug>/endorse/", views.endorse, name="endorse"),
    path("<slug:organization_slug>/pledged.csv", views.pledged_csv, name="pledged-csv"),
    path(
        "<slug:organization_slug>/endorsements/<slug:slug>/withdraw/",
        views.withdraw,
        name="withdraw",
    ),
]
