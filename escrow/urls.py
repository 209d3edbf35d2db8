from django.urls import path

from . import views

app_name = "escrow"
urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
    path("pledges/<int:pk>/card/", views.card, name="card"),
    path("pledges/<int:pk>/card/confirm/", views.card_confirm, name="card-confirm"),
    path("pledges/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("candidate/payouts/", views.candidate_payouts, name="candidate-payouts"),
    path("pledges/<int:pk>/complete-payment/", views.complete_payment, name="complete-payment"),
]
