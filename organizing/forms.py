"""Forms for organizers and partner organizations. They parse input; the services decide."""

from django import forms
from django.utils import timezone

from candidates import votes as vote_rules
from candidates.models import Candidate, SignerVote, VoteRecord
from pledges.states import PledgeKind, PledgeState
from slate.geography import US_STATES
from slate.models import PartnerCode, PartnerOrganization

from .models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
STATE_CHOICES = [("", "Choose a state"), *US_STATES]


class DeadlineField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [DATETIME_FORMAT, "%Y-%m-%d %H:%M"])
        kwargs.setdefault("help_text", f"Date and time, {timezone.get_current_timezone_name()}.")
        super().__init__(**kwargs)


class BasicsForm(forms.Form):
    name = forms.CharField(label="Name of the slate", max_length=200)
    mission = forms.CharField(
        label="Mission", max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the slate is for, in a paragraph supporters will read first.",
    )  # fmt: skip
    deadline = DeadlineField(label="Deadline")


class PlankForm(forms.Form):
    title = forms.CharField(label="Plank", max_length=200, required=False)
    summary = forms.CharField(
        label="Summary (optional)", max_length=2_000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("summary") and not data.get("title"):
            self.add_error("title", "A plank with a summary needs a title.")
        return data


PlankFormSet = forms.formset_factory(PlankForm, extra=3, max_num=20, validate_max=True)


class RuleForm(forms.Form):
    min_signatures = forms.IntegerField(
        label="Signatures needed (K)", min_value=1, max_value=500,
        help_text="The pot unlocks when at least this many invited candidates have signed.",
    )  # fmt: skip
    min_money_dollars = forms.IntegerField(
        label="Also require this much money pledged, in dollars (optional)", min_value=0,
        max_value=10_000_000_000, required=False,
    )  # fmt: skip
    min_volunteer_hours = forms.IntegerField(
        label="Also require this many volunteer hours (optional)", min_value=0,
        max_value=100_000_000, required=False,
    )  # fmt: skip


class AgreementForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, required=False)
    text = forms.CharField(
        label="Agreement text", max_length=100_000, widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Candidates sign exactly this text; once published it never changes.",
    )  # fmt: skip


class CandidateInviteForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200)
    office = forms.ChoiceField(label="Office", choices=Candidate.Office.choices)
    state = forms.ChoiceField(label="State", choices=STATE_CHOICES)
    district = forms.CharField(label="District (optional)", max_length=32, required=False)
    party = forms.CharField(label="Party (optional)", max_length=64, required=False)
    website = forms.URLField(
        label="Campaign website (optional)", required=False, assume_scheme="https"
    )
    fec_candidate_id = forms.CharField(
        label="FEC candidate id (optional)", max_length=9, required=False
    )
    public_phone = forms.CharField(
        label="Campaign office phone (optional, public: shown to supporters who ask them to sign)",
        max_length=32, required=False,
    )  # fmt: skip
    public_email = forms.EmailField(
        label="Campaign public email (optional, public: shown to supporters who ask them to sign)",
        required=False,
    )  # fmt: skip
    is_required = forms.BooleanField(
        label="Required: the slate cannot lock unless this candidate signs", required=False
    )
    notify_email = forms.EmailField(
        label="Candidate's email (optional: we send them the invitation link)", required=False
    )


class InvitationEmailForm(forms.Form):
    email = forms.EmailField(label="Email the invitation link to")


class DeadlineForm(forms.Form):
    new_deadline = DeadlineField(label="New deadline")
    reason = forms.CharField(
        label="Why it moves (sent to every supporter)", max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip


class EndorseForm(forms.Form):
    slate = forms.ChoiceField(label="Slate")
    statement = forms.CharField(
        label="Statement (optional, shown on the slate page)", max_length=2_000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

    def __init__(self, *args, slates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slate"].choices = [("", "Choose a slate")] + [
            (slate.slug, slate.name) for slate in slates
        ]


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Organization name", max_length=200)
    kind = forms.ChoiceField(label="Kind", choices=PartnerOrganization.Kind.choices)
    website = forms.URLField(label="Website (optional)", required=False, assume_scheme="https")


class VoteRecordForm(forms.Form):
    """A vote on one plank after the lock: what, when, which way keeps the bloc, the source,
    and one choice per signer (``candidates.votes.record_vote`` checks it all again)."""

    plank = forms.TypedChoiceField(label="Plank", coerce=int)
    description = forms.CharField(
        label="What was voted (a bill, an amendment, a motion)",
        max_length=vote_rules.MAX_DESCRIPTION_CHARS,
    )
    voted_on = forms.DateField(
        label="Date of the vote", widget=forms.DateInput(attrs={"type": "date"})
    )
    bloc_vote = forms.ChoiceField(
        label="The vote that keeps the plank",
        choices=VoteRecord.BlocVote.choices,
        widget=forms.RadioSelect,
    )
    source_url = forms.URLField(
        label="Source (where the vote is published)",
        max_length=vote_rules.MAX_SOURCE_URL_CHARS,
        assume_scheme="https",
    )

    def __init__(self, *args, planks=(), signers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plank"].choices = [(p, f"{p}. {plank['title']}") for p, plank in planks]
        self.signers = list(signers)
        for candidate in self.signers:
            self.fields[f"vote_{candidate.pk}"] = forms.ChoiceField(
                label=f"{candidate.full_name} voted",
                choices=[("", "—"), *SignerVote.Vote.choices],
                error_messages={"required": f"Choose how {candidate.full_name} voted."},
            )

    def signer_fields(self):
        return [self[f"vote_{c.pk}"] for c in self.signers]

    def votes(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data[f"vote_{c.pk}"] for c in self.signers}


class UpdateForm(forms.Form):
    """The organizer-update composer. The services check everything again."""

    ACTIONS = ("preview", "test", "send")

    subject = forms.CharField(
        label="Subject", max_length=SUBJECT_MAX_LENGTH,
        error_messages={"required": "Write a subject."},
    )  # fmt: skip
    body = forms.CharField(
        label="Update", max_length=BODY_MAX_LENGTH, strip=True,
        error_messages={"required": "Write the update: it is empty."},
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Plain text. **bold**, *italic*, [a link](https://example.org), lists "
        "(- item) and # headings are formatted; HTML is shown as typed, never run.",
    )  # fmt: skip
    kinds = forms.MultipleChoiceField(
        label="Who pledged", choices=PledgeKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="None ticked: every kind of pledge.",
    )  # fmt: skip
    pledge_states = forms.MultipleChoiceField(
        label="Pledge state", choices=PledgeState.choices, required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="None chosen: live pledges (not cancelled, voided, failed or refunded).",
    )  # fmt: skip
    states = forms.MultipleChoiceField(
        label="Supporters' states", choices=US_STATES, required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}), help_text="None chosen: every state.",
    )  # fmt: skip
    organizations = forms.MultipleChoiceField(
        label="Referred by", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: however they came.",
    )  # fmt: skip
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizations"].choices = [(str(o.pk), o.name) for o in organizations]

    def segment(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("kinds", "states", "organizations", "pledge_states")
        }


class OrganizerInviteForm(forms.Form):
    email = forms.EmailField(
        label="Their email address", max_length=254,
        help_text="They get a link; it adds them once they log in with this address.",
    )  # fmt: skip


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label="Why it goes back to the organizers", max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The organizers are emailed this and see it on their draft.",
    )  # fmt: skip


class PartnerCodeForm(forms.Form):
    label = forms.CharField(
        label="Chapter, mailing or event", max_length=100,
        help_text="For you and your dashboard: 'Local 7 Cleveland', 'October newsletter'.",
    )  # fmt: skip
    kind = forms.ChoiceField(label="Kind", choices=PartnerCode.Kind.choices)
    code = forms.CharField(
        label="Code in the link (optional)", max_length=32, required=False,
        help_text="Lower-case letters, digits and hyphens; made from the name if left empty.",
    )  # fmt: skip


class LogoForm(forms.Form):
    logo = forms.FileField(
        label="Logo image", help_text="PNG, JPEG, GIF or WebP under 2 MB; shown up to 256 pixels."
    )
