"""Forms for the supporter's pledges. They only parse input; the services decide."""

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings

from slate.geography import US_STATES

from .declarations import ATTESTATIONS
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

    allow_reallocation = forms.BooleanField(
        label="If my share for a candidate is over their contribution limit, give the excess "
        "to the other signed candidates (otherwise it is not charged)",
        required=False,
    )
    conditions_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # Never typed into: it carries the split's own errors (shares not adding up to 100, a
    # candidate no longer on the slate) so the page shows them at the split, not at the top.
    allocation = forms.CharField(widget=forms.HiddenInput, required=False)

    # Asked only when the pledge takes the donor's giving past the itemization threshold.
    DONOR_FIELDS = {
        "first_name": ("First name", 100), "last_name": ("Last name", 100),
        "street_1": ("Street address", 200), "street_2": ("Apartment, suite (optional)", 200),
        "city": ("City", 100), "donor_state": ("State", 2), "zip_code": ("ZIP code", 10),
        "employer": ("Employer (or \"self-employed\", \"retired\", \"none\")", 200),
        "occupation": ("Occupation", 200),
    }  # fmt: skip

    # Behind the "More options" disclosure: the conditions and the split.
    OPTION_FIELDS = ("condition_min_signatures", "condition_candidates")
    LEADING_FIELDS = ("amount", "supporter_state")

    def __init__(self, *args, candidates=(), ask_details=False, ask_cap=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition_candidates"].choices = [(str(c.pk), c.full_name) for c in candidates]
        # One percentage per invited candidate; all blank means "equally" (the default the
        # conditions text promises). A split only makes sense with two or more candidates.
        self.share_fields = {}
        if len(candidates) > 1:
            for candidate in candidates:
                name = f"share_{candidate.pk}"
                self.fields[name] = forms.DecimalField(
                    label=f"{candidate.full_name}, percent",
                    required=False, min_value=0, max_value=100, decimal_places=2, max_digits=5,
                    widget=forms.TextInput(
                        attrs={"inputmode": "decimal", "autocomplete": "off", "size": 6}
                    ),
                    error_messages={
                        "invalid": "Enter a percentage, like 70 or 33.33.",
                        "min_value": "A share cannot be negative.",
                        "max_value": "A share cannot be more than 100 percent.",
                        "max_decimal_places": "Use at most two decimal places.",
                        "max_digits": "A share cannot be more than 100 percent.",
                        "max_whole_digits": "A share cannot be more than 100 percent.",
                    },
                )  # fmt: skip
                self.share_fields[name] = candidate.pk
        for name, text in ATTESTATIONS:
            self.fields[name] = forms.BooleanField(
                label=text,
                error_messages={"required": "Confirm this to pledge: federal law requires it."},
            )
        self.ask_details = ask_details
        if ask_details:
            for name, (label, max_length) in self.DONOR_FIELDS.items():
                if name == "donor_state":
                    self.fields[name] = forms.ChoiceField(
                        label=label, choices=STATE_CHOICES, required=False
                    )
                else:
                    self.fields[name] = forms.CharField(
                        label=label, max_length=max_length, required=False
                    )
        self.ask_cap = ask_cap
        if ask_cap:
            self.fields["accept_limit_cap"] = forms.BooleanField(
                label="I understand that the part over the limit is handled as described above",
                required=False,
            )

    def leading_fields(self):
        return [self[name] for name in self.LEADING_FIELDS]

    def option_fields(self):
        return [self[name] for name in self.OPTION_FIELDS]

    def share_bound_fields(self):
        return [self[name] for name in self.share_fields]

    def trailing_fields(self):
        shown = {*self.LEADING_FIELDS, *self.OPTION_FIELDS, *self.share_fields}
        return [field for field in self.visible_fields() if field.name not in shown]

    def options_open(self) -> bool:
        """The disclosure opens by itself when it holds an error, or a choice the supporter
        made (so a form that comes back shows what was kept)."""
        names = [*self.OPTION_FIELDS, *self.share_fields]
        if any(self.errors.get(name) for name in [*names, "allocation"]):
            return True
        return self.is_bound and any(self[name].value() not in (None, "", []) for name in names)

    def clean(self):
        cleaned = super().clean()
        shares = {name: cleaned.get(name) for name in self.share_fields}
        if any(name in self.errors for name in self.share_fields):
            return cleaned  # each bad share is already explained beside it
        strangers = [
            key for key, value in self.data.items()
            if key.startswith("share_") and key not in self.share_fields and str(value).strip()
        ]  # fmt: skip
        if strangers:  # e.g. a candidate whose invitation ended while the page was open
            self.add_error(
                "allocation",
                "The split names a candidate who is not on this slate. Check the split again.",
            )
            return cleaned
        typed = {name: value for name, value in shares.items() if value is not None}
        if not typed:
            cleaned["allocation"] = None  # equally
            return cleaned
        total = sum(typed.values())
        if total != 100:
            self.add_error(
                "allocation",
                f"The shares add up to {total.normalize():f}%; they must add up to 100% "
                "(or leave them all blank to split equally).",
            )
            return cleaned
        # Basis points: 70% is 7000. Zero shares are left out (the candidate gets nothing).
        cleaned["allocation"] = {
            self.share_fields[name]: int(value * 100) for name, value in typed.items() if value
        }
        return cleaned

    def attestations(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name, _ in ATTESTATIONS}

    def donor_details(self) -> dict[str, str]:
        if not self.ask_details:
            return {}
        details = {
            name: self.cleaned_data.get(name, "")
            for name in self.DONOR_FIELDS
            if name != "donor_state"
        }
        details["state"] = self.cleaned_data.get("donor_state", "")
        return details

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


ROLL_LABEL = "Show my first name, last initial and state on the slate's public roll"


class SignOnForm(forms.Form):
    """Signing on with an account: the account's name is the one the roll would show."""

    supporter_state = forms.ChoiceField(label="Your state", choices=STATE_CHOICES, required=False)
    on_public_roll = forms.BooleanField(label=ROLL_LABEL, required=False)


class EmailSignOnForm(forms.Form):
    """Signing on without an account: confirmed by a link emailed to the address."""

    name = forms.CharField(label="Your name", max_length=100)
    email = forms.EmailField(label="Email", max_length=254)
    zip_code = forms.CharField(
        label="ZIP code", max_length=10, help_text="Your state comes from it."
    )
    on_public_roll = forms.BooleanField(label=ROLL_LABEL, required=False)
