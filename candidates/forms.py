from django import forms


class SignAgreementForm(forms.Form):
    typed_name = forms.CharField(label="Type your full name to sign", max_length=200)
    consent = forms.BooleanField(
        label="I have read this version of the agreement and agree to be bound by it.",
        error_messages={"required": "Tick the box to agree to the text above."},
    )
    agreement_version_id = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing? (optional)", max_length=500, required=False
    )
