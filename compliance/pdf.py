"""Receipts as PDF, drawn with reportlab (pure Python: no system libraries)."""

from io import BytesIO

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, Preformatted, SimpleDocTemplate, Spacer, Table

from .receipts import Receipt


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def receipt_pdf(receipt: Receipt) -> bytes:
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, title=f"Slate receipt {receipt.number}",
        leftMargin=0.8 * inch, rightMargin=0.8 * inch,
    )  # fmt: skip
    donor = receipt.donor
    name = (donor.full_name if donor else "") or receipt.pledge.supporter.email
    at = timezone.localtime(receipt.at)
    story = [
        Paragraph(f"Slate — {receipt.title} receipt {receipt.number}", styles["Title"]),
        Paragraph(f"Date: {at:%B %-d, %Y %H:%M %Z}", styles["Normal"]),
        Paragraph(f"Contributor: {name}", styles["Normal"]),
        Paragraph(
            f"Pledge #{receipt.pledge.pk} to the slate “{receipt.pledge.slate.name}”",
            styles["Normal"],
        ),
        Spacer(1, 12),
    ]
    rows = [["Candidate committee", "Amount"]]
    rows += [[line.committee, _dollars(line.amount_cents)] for line in receipt.lines]
    rows.append(["Total", _dollars(receipt.total_cents)])
    table = Table(rows, colWidths=[4.6 * inch, 1.6 * inch])
    table.setStyle(
        [
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ]
    )
    story += [table, Spacer(1, 12)]
    if receipt.kind == "refund" and receipt.memo:
        story.append(Paragraph(f"Reason: {receipt.memo}", styles["Normal"]))
    story.append(
        Paragraph(
            "Contributions are earmarked through Slate, a conduit, to the committees above.",
            styles["Italic"],
        )
    )
    if receipt.conditions:
        story += [
            Spacer(1, 12),
            Paragraph("The conditions you pledged on", styles["Heading3"]),
            Preformatted(receipt.conditions, styles["Code"], maxLineLength=90),
        ]
    document.build(story)
    return buffer.getvalue()
