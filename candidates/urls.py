from django.urls import path

from . import views

app_name = "candidates"
urlpatterns = [
    path("candidate/", views.home, name="home"),
    path("candidate/slates/<slug:slug>/sign/", views.sign, name="sign"),
    path("candidate/slates/<slug:slug>/withdraw/", views.withdraw, name="withdraw"),
    path("candidate/slates/<slug:slug>/decline/", views.decline, name="decline"),
    path("candidate/claim/<str:token>/", views.claim, name="claim"),
    path("candidate/profile/", views.edit_profile, name="edit-profile"),
    path("candidate/digest/", views.digest, name="digest"),
    path("candidates/<int:candidate_id>/", views.profile, name="profile"),
    path("candidates/<int:candidate_id>/photo.jpg", views.photo, name="photo"),
    path("slates/<slug:slug>/candidates/<int:candidate_id>/ask/", views.ask, name="ask"),
    path("asks/confirm/<str:token>/", views.ask_confirm, name="ask-confirm"),
]
