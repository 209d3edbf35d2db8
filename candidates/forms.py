from django import forms

from .asks import MAX_ASK_MESSAGE_CHARS, MAX_ASKER_NAME_CHARS
from .photos import MAX_UPLOAD_BYTES
from .services import MAX_SIGNER_NOTE_CHARS, MAX_STATEMENT_CHARS
from .signatures import MAX_RESERVATION_CHARS

COMMIT = "committed"
RESERVE = "reserved"


class SignAgreementForm(forms.Form):
    """Typed name and consent, plus one choice per plank of the version being signed: commit,
    or commit with a reservation stated publicly."""

    typed_name = forms.CharField(label="Type your full name to sign", max_length=200)
    consent = forms.BooleanField(
        label="I have read this version of the agreement and agree to be bound by it.",
        error_messages={"required": "Tick the box to agree to the text above."},
    )
    agreement_version_id = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, planks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plank_positions = []
        for position, plank in planks:
            self.plank_positions.append(position)
            self.fields[f"plank_{position}_choice"] = forms.ChoiceField(
                label=f"{position}. {plank['title']}",
                choices=[(COMMIT, "I commit"), (RESERVE, "I commit, with a public reservation")],
                widget=forms.RadioSelect,
                initial=COMMIT,
                error_messages={"required": "Choose how you commit to this plank."},
            )
            self.fields[f"plank_{position}_reservation"] = forms.CharField(
                label=f"Your reservation on plank {position} (shown publicly)",
                max_length=MAX_RESERVATION_CHARS,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def plank_rows(self):
        """(choice field, reservation field) per plank, for the template."""
        return [
            (self[f"plank_{p}_choice"], self[f"plank_{p}_reservation"])
            for p in self.plank_positions
        ]

    def clean(self):
        data = super().clean()
        for position in self.plank_positions:
            reserved = data.get(f"plank_{position}_choice") == RESERVE
            if reserved and not data.get(f"plank_{position}_reservation", "").strip():
                self.add_error(
                    f"plank_{position}_reservation",
                    "Say what your reservation is, or commit without one.",
                )
        return data

    def reservations(self) -> dict[int, str]:
        return {
            position: self.cleaned_data[f"plank_{position}_reservation"]
            for position in self.plank_positions
            if self.cleaned_data.get(f"plank_{position}_choice") == RESERVE
        }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing? (optional)", max_length=500, required=False
    )


class PublicProfileForm(forms.Form):
    statement = forms.CharField(
        label="Your statement (public; plain text)",
        max_length=MAX_STATEMENT_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=f"At most {MAX_STATEMENT_CHARS:,} characters, shown as you write it.",
    )
    website = forms.URLField(label="Campaign website", required=False, assume_scheme="https")
    # A plain file field: candidates.photos checks and re-encodes it (one place for the rules).
    photo = forms.FileField(
        label="Your photo (JPEG, PNG or WebP)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=f"At most {MAX_UPLOAD_BYTES // 2**20} MB; shown square. Without one, your "
        "initials are shown.",
    )
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)


class AskForm(forms.Form):
    message = forms.CharField(
        label="Your message to them (optional, public; plain text)",
        max_length=MAX_ASK_MESSAGE_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"At most {MAX_ASK_MESSAGE_CHARS} characters.",
    )


class AskByEmailForm(AskForm):
    """Asking without signing in: counted once the link emailed to the address is followed."""

    name = forms.CharField(label="Your name", max_length=MAX_ASKER_NAME_CHARS)
    email = forms.EmailField(
        label="Your email", help_text="We email you a link; your ask counts once you follow it."
    )
    field_order = ["name", "email", "message"]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Your reason (optional, shown publicly on the slate page; plain text)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SignerContactForm(forms.Form):
    """What the other signers and their staff see in the signers' room: each field filled in
    is shared, each left empty is not."""

    phone = forms.CharField(label="Direct phone", max_length=32, required=False)
    email = forms.EmailField(label="Direct email", required=False)
    scheduler = forms.CharField(
        label="Scheduler or chief of staff (name and how to reach them)",
        max_length=200,
        required=False,
    )
    note = forms.CharField(
        label="A note to the other signers (best times, how you like to be reached)",
        max_length=MAX_SIGNER_NOTE_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
