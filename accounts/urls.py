from django.urls import path

from . import views

# Names follow allauth's (account_*), whose pages sit beside this one under /accounts/.
urlpatterns = [
    path("security/", views.security, name="account_security"),
]
