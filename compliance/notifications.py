"""Emails about contributions: a receipt for each capture and refund, and the one "best
efforts" request for missing contributor details. Sent from Celery tasks, outside any
transaction; each is recorded first so a retried task never sends it twice."""

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from slate.links import public_url

from .models import ReceiptNotice
from .pdf import receipt_pdf
from .receipts import receipt


def send_receipt(*, transaction_id: int) -> bool:
    """Email the supporter the receipt of one capture or refund, once, with its PDF."""
    found = receipt(transaction_id)
    if found is None or not found.pledge.supporter.email:
        return False
    try:
        with transaction.atomic():
            ReceiptNotice.objects.create(ledger_transaction_id=transaction_id)
    except IntegrityError:
        return False  # sent already
    body = render_to_string(
        "compliance/email/receipt.txt",
        {"receipt": found, "url": public_url(f"/receipts/{transaction_id}/")},
    )
    message = EmailMessage(
        f"Your Slate {found.title.lower()} receipt {found.number}",
        body,
        None,
        [found.pledge.supporter.email],
    )
    message.attach(f"slate-receipt-{found.number}.pdf", receipt_pdf(found), "application/pdf")
    message.send()
    return True
