from django.urls import path

from . import views

app_name = "compliance"
urlpatterns = [
    path("receipts/", views.receipt_list, name="receipts"),
    path("receipts/<int:transaction_id>/", views.receipt_detail, name="receipt"),
    path("receipts/<int:transaction_id>.pdf", views.receipt_pdf_view, name="receipt-pdf"),
    path("account/donor-details/", views.donor_details, name="donor-details"),
    path("account/my-data.json", views.my_data, name="my-data"),
    path("account/delete/", views.delete_my_data, name="delete"),
    path("compliance/exports/", views.export_index, name="exports"),
    path(
        "compliance/exports/<int:candidate_id>/schedule-a.csv",
        views.export_schedule_a,
        name="export-schedule-a",
    ),
]
