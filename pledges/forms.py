"""Forms for the supporter's pledges. They only parse input; the services decide."""

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings

from slate.geography import US_STATES

from .models import VolunteerActivity

SUGGESTED_DOLLARS = (25, 50, 100, 250, 500, 1000)
STATE_CHOICES = [("", "Choose your state"), *US_STATES]


class IdempotentForm(forms.Form):
    """A hidden key minted when the form is shown: submitting twice makes one pledge."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class MoneyPledgeForm(IdempotentForm):
    amount = forms.CharField(
        label="Amount in dollars",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    supporter_state = forms.ChoiceField(label="Your state", choices=STATE_CHOICES)
    condition_min_signatures = forms.IntegerField(
        label="Only if at least this many candidates sign (optional)",
        required=False,
        min_value=1,
    )
    condition_candidates = forms.MultipleChoiceField(
        label="Only if these candidates sign (optional)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition_candidates"].choices = [(str(c.pk), c.full_name) for c in candidates]

    def clean_amount(self) -> int:
        """Dollars as typed ("1,000", "$25.50") to integer cents; never a float."""
        raw = self.cleaned_data["amount"].replace("$", "").replace(",", "").strip()
        try:
            dollars = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount in dollars, like 50 or 50.25.") from None
        if not dollars.is_finite() or dollars != dollars.quantize(Decimal("0.01")):
            raise forms.ValidationError("Use at most two decimal places.")
        cents = int(dollars * 100)
        low, high = settings.SLATE_MIN_PLEDGE_CENTS, settings.SLATE_MAX_PLEDGE_CENTS
        if not low <= cents <= high:
            raise forms.ValidationError(f"Pledge between ${low / 100:,.2f} and ${high / 100:,.2f}.")
        return cents

    def clean_condition_candidates(self) -> list[int]:
        return [int(value) for value in self.cleaned_data["condition_candidates"]]


class VolunteerPledgeForm(IdempotentForm):
    hours = forms.IntegerField(label="Hours you will give", min_value=1)
    activities = forms.MultipleChoiceField(
        choices=VolunteerActivity.choices, widget=forms.CheckboxSelectMultiple
    )
    zip_code = forms.CharField(label="ZIP code", max_length=10)
    availability = forms.CharField(
        label="When you are available (optional)", max_length=200, required=False
    )
    supporter_state = forms.ChoiceField(label="Your state", choices=STATE_CHOICES)


class SignOnForm(forms.Form):
    supporter_state = forms.ChoiceField(label="Your state", choices=STATE_CHOICES, required=False)
