"""Compliance's answers to other apps' events (receipts after captures and refunds)."""
