"""The contributor details asked of a donor once their giving is itemized (FEC Schedule A),
checked before anything is written."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from slate.geography import US_STATE_CODES
from slate.text import clean_text

from .errors import ComplianceError

ZIP_RE = re.compile(r"^\d{5}(?:-\d{4})?$")


@dataclass(frozen=True)
class DonorDetails:
    """Contributor information for itemized contributions (FEC Schedule A)."""

    first_name: str = ""
    last_name: str = ""
    street_1: str = ""
    street_2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    employer: str = ""
    occupation: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> "DonorDetails":
        return cls(**{f.name: data.get(f.name) or "" for f in fields(cls)})

    def cleaned(self) -> "DonorDetails":
        """Each field trimmed and checked; a bad one is a ComplianceError naming it."""
        limits = {"street_1": 200, "street_2": 200, "employer": 200, "occupation": 200}
        values = {
            f.name: clean_text(
                getattr(self, f.name),
                field=f.name,
                error=ComplianceError,
                max_length=limits.get(f.name, 100),
            )
            for f in fields(self)
        }
        values["state"] = values["state"].upper()
        if values["state"] and values["state"] not in US_STATE_CODES:
            raise ComplianceError("invalid_state", "Choose a US state or territory.", field="state")
        if values["zip_code"] and not ZIP_RE.match(values["zip_code"]):
            raise ComplianceError("invalid_zip", "Enter a 5-digit ZIP code.", field="zip_code")
        return DonorDetails(**values)

    def given(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
