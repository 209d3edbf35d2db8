from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import email_views, mail_events, views

slate_patterns = (
    [
        path("", views.home, name="home"),
        path("slates/", views.directory, name="directory"),
        path("slates/<slug:slug>/", views.slate_detail, name="detail"),
        path("slates/<slug:slug>/share.png", views.share_image, name="share-image"),
        path("slates/<slug:slug>/progress/", views.slate_progress_fragment, name="progress"),
        path("r/<slug:organization_slug>/<slug:slug>/", views.referral, name="referral"),
        path(
            "r/<slug:organization_slug>/<slug:slug>/<slug:code>/",
            views.referral,
            name="referral-code",
        ),
        path("embed/slates/<slug:slug>/", views.widget, name="widget"),
    ],
    "slate",
)

email_patterns = (
    [
        path("preferences/<str:token>/", email_views.preferences, name="preferences"),
        path("unsubscribe/<str:token>/", email_views.unsubscribe, name="unsubscribe"),
    ],
    "email",
)

# The admin's own login form asks for a password only; send it to allauth's login, which asks
# for the two-factor code too (staff must have one: accounts.mfa).
admin.site.login = secure_admin_login(admin.site.login)

# 403, 404 and 500 are Django's own views rendering templates/403.html, 404.html, 500.html.
handler400 = views.bad_request

urlpatterns = [
    path("", include(slate_patterns)),
    path("healthz", views.healthz, name="healthz"),
    path("email/", include(email_patterns)),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("escrow.urls")),
    path("", include("volunteers.urls")),
    path("", include("volunteers.host_urls")),
    path("", include("pledges.urls")),
    path("", include("candidates.urls")),
    path("organize/", include("organizing.urls")),
    path("orgs/", include("organizing.partner_urls")),
    path("", include("compliance.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]
if settings.SLATE_EMAIL_WEBHOOKS:
    # The mail providers' tracking webhooks (django-anymail's views; slate.mail_events listens).
    urlpatterns.append(path("anymail/", include(mail_events.webhook_patterns)))
