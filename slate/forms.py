"""Forms of the slate app's public pages; they parse input, the selectors decide."""

from django import forms

from .geography import US_STATES, Office
from .selectors import DIRECTORY_STATUSES

STATUS_LABELS = {
    "open": "Open",
    "locked": "Locked (coordinated)",
    "released": "Released",
    "expired": "Expired",
}


class DirectoryFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *[(k, STATUS_LABELS[k]) for k in DIRECTORY_STATUSES]],
    )
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *US_STATES])
    office = forms.ChoiceField(required=False, choices=[("", "Any office"), *Office.choices])
