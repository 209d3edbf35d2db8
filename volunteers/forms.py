"""Forms for volunteers and the people who run shifts. They parse; the services decide."""

from datetime import UTC

from django import forms
from django.utils import timezone

from pledges.forms import VolunteerPledgeForm
from pledges.models import VolunteerActivity
from slate.geo import TIME_ZONE_CHOICES

from .models import WEEKLY_SLOT_CHOICES, WorkMode


class VolunteerOfferForm(VolunteerPledgeForm):
    """The pledge form of the pledges app, plus how, when and in which languages."""

    mode = forms.ChoiceField(
        label="How you will help",
        choices=WorkMode.choices,
        initial=WorkMode.EITHER,
        required=False,
    )
    weekly_slots = forms.MultipleChoiceField(
        label="When you are usually free (optional)",
        choices=WEEKLY_SLOT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    languages = forms.CharField(
        label="Languages you can campaign in (optional, comma-separated)",
        max_length=400,
        required=False,
    )
    display_name = forms.CharField(label="Your name (optional)", max_length=120, required=False)
    phone = forms.CharField(label="Phone (optional)", max_length=32, required=False)
    share_contact = forms.BooleanField(
        label="Once the slate locks, share my name, email and phone with the campaign I am "
        "matched to",
        required=False,
    )

    field_order = [
        "hours", "activities", "zip_code", "mode", "weekly_slots", "availability", "languages",
        "supporter_state", "display_name", "phone", "share_contact",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supporter_state"].required = False
        self.fields["supporter_state"].label = "Your state (optional: we read it from your ZIP)"


class ChangeMatchForm(forms.Form):
    candidate = forms.TypedChoiceField(label="Campaign", coerce=int)
    mode = forms.ChoiceField(
        label="How",
        choices=[(WorkMode.IN_PERSON, "In person"), (WorkMode.REMOTE, "Remote")],
    )

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidate"].choices = [(c.pk, c.full_name) for c in campaigns]


class ConsentForm(forms.Form):
    share_contact = forms.BooleanField(required=False)


class EventForm(forms.Form):
    host = forms.ChoiceField(label="Host")
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, hosts=None, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = hosts or {}
        choices = []
        if hosts.get("slate_wide"):
            choices.append(("slate", "The slate (organizers)"))
        choices += [
            (f"candidate:{c.pk}", f"{c.full_name}'s campaign") for c in hosts.get("candidates", [])
        ]
        choices += [(f"org:{o.pk}", o.name) for o in hosts.get("organizations", [])]
        self.fields["host"].choices = choices


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as typed, without a zone: the service reads it in the shift's zone,
    which depends on the ZIP code typed beside it."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value):
        with timezone.override(UTC):
            result = super().to_python(value)
        return result.replace(tzinfo=None) if result else result


LOCAL_TIME_HELP = (
    "Local time of the place (from its ZIP code); for a remote shift, the host's time zone "
    "unless you choose one below."
)


class ShiftForm(forms.Form):
    starts_at = LocalDateTimeField(label="Starts (local time)", help_text=LOCAL_TIME_HELP)
    ends_at = LocalDateTimeField(label="Ends (local time)")
    activity = forms.ChoiceField(choices=VolunteerActivity.choices)
    mode = forms.ChoiceField(
        label="Where",
        choices=[(WorkMode.IN_PERSON, "In person"), (WorkMode.REMOTE, "Remote (call link)")],
    )
    location = forms.CharField(label="Address (in person)", max_length=300, required=False)
    zip_code = forms.CharField(label="ZIP code (in person)", max_length=10, required=False)
    call_link = forms.CharField(label="Call link (remote)", max_length=500, required=False)
    time_zone = forms.ChoiceField(
        label="Time zone (remote)", required=False,
        choices=[("", "The host's time zone"), *TIME_ZONE_CHOICES],
    )  # fmt: skip
    capacity = forms.IntegerField(label="Places")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(
        choices=[("yes", "Attended"), ("no", "Absent")], coerce=lambda v: v == "yes"
    )
    delivered_hours = forms.DecimalField(
        label="Hours delivered", required=False, max_digits=4, decimal_places=2
    )


class StaffForm(forms.Form):
    """A signer adds a member of their campaign staff (who then sees the signers' room): by
    the address of their account, or any address, which is then sent an invitation."""

    email = forms.EmailField(label="Their email address", max_length=254)
