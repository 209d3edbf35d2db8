from django.urls import path

from . import views

app_name = "pledges"
urlpatterns = [
    path("slates/<slug:slug>/pledge/", views.pledge_money, name="money"),
    path("slates/<slug:slug>/sign-on/", views.sign_on, name="sign-on"),
    path("pledges/", views.my_pledges, name="mine"),
    path("pledges/<int:pk>/", views.pledge_detail, name="detail"),
]
