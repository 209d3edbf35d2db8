"""Pledge shapes: what a supporter sends to pledge, what they and organizers read back."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pledges.models import Pledge, VolunteerActivity
from pledges.states import PledgeKind, PledgeState

from ..fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictListField,
)


class AllocationShareSerializer(serializers.Serializer):
    candidate = StrictIntegerField(min_value=1, help_text="A candidate id on this slate.")
    weight_bps = StrictIntegerField(
        min_value=1, max_value=10_000, help_text="Basis points; all shares add up to 10000."
    )


class AttestationsSerializer(serializers.Serializer):
    """The five statements a money pledge needs, each ``true`` (pledges.declarations)."""

    citizen_or_permanent_resident = StrictBooleanField(required=False, default=False)
    at_least_18 = StrictBooleanField(required=False, default=False)
    own_funds_not_reimbursed = StrictBooleanField(required=False, default=False)
    not_federal_contractor = StrictBooleanField(required=False, default=False)
    personal_card = StrictBooleanField(required=False, default=False)


class DonorDetailsSerializer(serializers.Serializer):
    """Contributor details, needed once a donor gives a candidate more than $200 a cycle."""

    first_name = StrictCharField(required=False, allow_blank=True, max_length=100)
    last_name = StrictCharField(required=False, allow_blank=True, max_length=100)
    street_1 = StrictCharField(required=False, allow_blank=True, max_length=200)
    street_2 = StrictCharField(required=False, allow_blank=True, max_length=200)
    city = StrictCharField(required=False, allow_blank=True, max_length=100)
    state = StrictCharField(required=False, allow_blank=True, max_length=2)
    zip_code = StrictCharField(required=False, allow_blank=True, max_length=10)
    employer = StrictCharField(required=False, allow_blank=True, max_length=200)
    occupation = StrictCharField(required=False, allow_blank=True, max_length=200)


class PledgeCreateSerializer(serializers.Serializer):
    """Field checks only (types and sizes); the rules live in pledges.services."""

    slate = StrictCharField(max_length=80, help_text="The slate's slug.")
    kind = StrictChoiceField(choices=PledgeKind.choices)
    amount_cents = StrictIntegerField(
        required=False, min_value=1, help_text="Money pledges: whole cents."
    )
    hours = StrictIntegerField(required=False, min_value=1, help_text="Volunteer pledges.")
    activities = StrictListField(
        child=StrictChoiceField(choices=VolunteerActivity.choices),
        required=False,
        max_length=len(VolunteerActivity.choices),
    )
    zip_code = StrictCharField(required=False, allow_blank=True, max_length=10)
    availability = StrictCharField(required=False, allow_blank=True, max_length=200)
    supporter_state = StrictCharField(
        required=False, allow_blank=True, max_length=2, help_text="Two-letter US state code."
    )
    condition_min_signatures = StrictIntegerField(required=False, min_value=1, max_value=1000)
    condition_candidates = StrictListField(
        child=StrictIntegerField(min_value=1), required=False, max_length=100
    )
    allocation = AllocationShareSerializer(many=True, required=False, max_length=100)
    referred_by = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=80,
        help_text="Slug of the endorsing partner organization that referred the supporter.",
    )
    attestations = AttestationsSerializer(
        required=False, help_text="Money pledges: all five statements confirmed (true)."
    )
    donor_details = DonorDetailsSerializer(required=False)
    allow_reallocation = StrictBooleanField(
        required=False, default=False,
        help_text="Money over a candidate's limit may go to the other signed candidates.",
    )  # fmt: skip
    accept_limit_cap = StrictBooleanField(
        required=False, default=False,
        help_text="Pledge even though part is over a limit (the 400 explains which part).",
    )  # fmt: skip

    def validate(self, data):
        kind = data["kind"]
        if kind == PledgeKind.MONEY and "amount_cents" not in data:
            raise serializers.ValidationError({"amount_cents": ["A money pledge needs an amount."]})
        if kind == PledgeKind.VOLUNTEER:
            missing = {
                name: ["A volunteer pledge needs this."]
                for name in ("hours", "activities", "zip_code")
                if name not in data
            }
            if missing:
                raise serializers.ValidationError(missing)
        return data


class PledgeSerializer(serializers.ModelSerializer):
    slate = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    kind = serializers.ChoiceField(choices=PledgeKind.choices)
    state = serializers.ChoiceField(choices=PledgeState.choices)
    referred_by = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    card_url = serializers.SerializerMethodField(
        help_text="Where the supporter saves a card (money pledges waiting for one)."
    )

    class Meta:
        model = Pledge
        fields = [
            "id", "slate", "kind", "state", "amount_cents", "currency", "captured_cents",
            "refunded_cents", "hours", "activities", "zip_code", "availability",
            "supporter_state", "condition_min_signatures", "referred_by", "created_at",
            "state_changed_at", "card_url",
        ]  # fmt: skip

    def get_card_url(self, pledge: Pledge) -> str | None:
        if pledge.kind == PledgeKind.MONEY and pledge.state in (
            PledgeState.PENDING_CARD,
            PledgeState.NEEDS_ACTION,
        ):
            return f"/pledges/{pledge.pk}/card/"
        return None


class DonorSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="supporter_id")
    email = serializers.EmailField(source="supporter.email")
    name = serializers.CharField(source="supporter.get_full_name")
    zip_code = serializers.CharField()


class SlatePledgeSerializer(serializers.ModelSerializer):
    """A pledge as the slate's organizers see it; ``donor`` only where their role allows."""

    kind = serializers.ChoiceField(choices=PledgeKind.choices)
    state = serializers.ChoiceField(choices=PledgeState.choices)
    referred_by = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    donor = serializers.SerializerMethodField()

    class Meta:
        model = Pledge
        fields = [
            "id", "kind", "state", "amount_cents", "currency", "captured_cents",
            "refunded_cents", "hours", "activities", "supporter_state", "referred_by",
            "created_at", "donor",
        ]  # fmt: skip

    @extend_schema_field(DonorSerializer(allow_null=True))
    def get_donor(self, pledge: Pledge):
        if not self.context.get("donor_details"):
            return None
        return DonorSerializer(pledge).data


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=500)
