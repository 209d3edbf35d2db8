"""Cleaning of free text before it reaches the database.

PostgreSQL refuses NUL characters in text columns; a value that contains one must be a clear
field error from the service, never a DataError (a 500) from the database.
"""

from .errors import DomainError


def clean_text(
    value: object,
    *,
    field: str,
    error: type[DomainError],
    max_length: int,
    required: bool = False,
    required_message: str = "This field is required.",
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error("invalid_text", "Enter text.", field=field)
    if "\x00" in value:
        raise error("invalid_text", "The text contains a NUL character.", field=field)
    value = value.strip()
    if required and not value:
        raise error("required", required_message, field=field)
    if len(value) > max_length:
        raise error("too_long", f"Use at most {max_length:,} characters.", field=field)
    return value


def printable_header(value: object, max_length: int) -> str:
    """Request metadata (user agents) is recorded as given, minus what cannot be stored."""
    return str(value or "").replace("\x00", "")[:max_length]
