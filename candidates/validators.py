"""FEC identifier formats (fec.gov: candidate and committee id structure)."""

import re

from django.core.exceptions import ValidationError

# H (House) or S (Senate): office letter, election-cycle digit, state, five digits: H8CA05035.
# P (President): office letter then eight digits: P80001571.
FEC_CANDIDATE_ID_RE = re.compile(r"^(?:[HS][0-9][A-Z]{2}[0-9]{5}|P[0-9]{8})$")
FEC_COMMITTEE_ID_RE = re.compile(r"^C[0-9]{8}$")


def validate_fec_candidate_id(value: str) -> None:
    if value and not FEC_CANDIDATE_ID_RE.match(value):
        raise ValidationError(
            "An FEC candidate id looks like H8CA05035, S6NY00123 or P80001571.",
            code="invalid_fec_candidate_id",
        )


def validate_fec_committee_id(value: str) -> None:
    if value and not FEC_COMMITTEE_ID_RE.match(value):
        raise ValidationError(
            "An FEC committee id is C followed by eight digits, like C00123456.",
            code="invalid_fec_committee_id",
        )


PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ().\-]{5,30}$")


def validate_phone(value: str) -> None:
    if value and not PHONE_RE.match(value):
        raise ValidationError(
            "Enter a phone number: digits, spaces, +, -, dots and parentheses.",
            code="invalid_phone",
        )
