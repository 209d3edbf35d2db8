"""Cells for the CSV files Slate hands out (organizers' exports, compliance reports).

Every app that writes a CSV uses these, so money is written one way and no cell can run as a
formula when the file is opened in a spreadsheet (CSV injection).
"""

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def usd(cents: int) -> str:
    """Integer cents as a plain decimal string: 12550 -> '125.50' (no float in between)."""
    whole, rest = divmod(cents, 100)
    return f"{whole}.{rest:02d}"


def safe_cell(value) -> str:
    """``value`` as text, quoted with a leading apostrophe where a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
