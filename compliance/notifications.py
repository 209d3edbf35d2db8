"""Emails about contributions: a receipt for each capture and refund, and the one "best
efforts" request for missing contributor details. Sent from Celery tasks, outside any
transaction; each is recorded with its send, so a retried task never sends it twice and a
failed send is not recorded."""

from django.db import IntegrityError, transaction

from slate import mail
from slate.links import public_url

from .models import ReceiptNotice
from .pdf import receipt_pdf
from .receipts import receipt


def send_receipt(*, transaction_id: int) -> bool:
    """Email the supporter the receipt of one capture or refund, once, with its PDF. The
    notice row and the mail commit together: a mail error rolls the row back, so the task's
    retry (or ``send_missing_receipts``) sends it; a second run at the same time waits on the
    row, then skips."""
    found = receipt(transaction_id)
    if found is None or not found.pledge.supporter.email:
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReceiptNotice.objects.create(ledger_transaction_id=transaction_id)
        except IntegrityError:
            return False  # sent already
        return mail.send(
            mail.Email(
                to=found.pledge.supporter.email,
                subject=f"Your Slate {found.title.lower()} receipt {found.number}",
                template="compliance/email/receipt.txt",
                context={"receipt": found, "url": public_url(f"/receipts/{transaction_id}/")},
                slate=found.pledge.slate,
                reason=f"you pledged to {found.pledge.slate.name} and money moved",
                attachments=(
                    (f"slate-receipt-{found.number}.pdf", receipt_pdf(found), "application/pdf"),
                ),
            )
        )
