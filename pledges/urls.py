from django.urls import path

from . import views

app_name = "pledges"
urlpatterns = [
    path("slates/<slug:slug>/pledge/", views.pledge_money, name="money"),
    path("slates/<slug:slug>/sign-on/", views.sign_on, name="sign-on"),
    path("slates/<slug:slug>/sign-on/sent/", views.sign_on_sent, name="sign-on-sent"),
    path("sign-on/confirm/<str:token>/", views.sign_on_confirm, name="sign-on-confirm"),
    path("slates/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("pledges/", views.my_pledges, name="mine"),
    path(
        "pledges/organizations/<slug:organization_slug>/sharing/",
        views.partner_sharing,
        name="partner-sharing",
    ),
    path("pledges/<int:pk>/", views.pledge_detail, name="detail"),
]
