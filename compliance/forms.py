from django import forms

from slate.geography import US_STATES


class DonorDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    street_1 = forms.CharField(label="Street address", max_length=200)
    street_2 = forms.CharField(label="Apartment, suite (optional)", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    state = forms.ChoiceField(choices=[("", "Choose your state"), *US_STATES])
    zip_code = forms.CharField(label="ZIP code", max_length=10)
    employer = forms.CharField(
        max_length=200, help_text='If you are not employed, write "Not employed" or "Retired".'
    )
    occupation = forms.CharField(max_length=200)


class DeleteDataForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: my account is closed and my personal data deleted, except what "
        "the law requires Slate to keep about contributions I made."
    )
