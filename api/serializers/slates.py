"""Read shapes of slates, their totals, planks, candidates, agreements and partners.

Serializers here only shape data the selectors return; they decide nothing."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from candidates.models import AgreementVersion, Candidate
from slate.models import Endorsement, PartnerOrganization, Plank, Slate
from slate.states import SlateState


class ThresholdRuleSerializer(serializers.Serializer):
    min_signatures = serializers.IntegerField(source="threshold_min_signatures")
    min_money_cents = serializers.IntegerField(source="threshold_min_money_cents")
    min_volunteer_hours = serializers.IntegerField(source="threshold_min_volunteer_hours")


class SlateSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=SlateState.choices)
    threshold = ThresholdRuleSerializer(source="*")
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = Slate
        fields = [
            "slug", "name", "mission", "state", "deadline", "opened_at", "locked_at",
            "threshold", "signed_candidate_count", "invited_candidate_count",
            "agreement_version_number", "web_url",
        ]  # fmt: skip

    def get_web_url(self, slate: Slate) -> str:
        return slate.get_absolute_url()


class CountsSerializer(serializers.Serializer):
    money_pledged_cents = serializers.IntegerField()
    money_pledge_count = serializers.IntegerField()
    money_authorized_cents = serializers.IntegerField()
    money_captured_cents = serializers.IntegerField()
    volunteer_hours = serializers.IntegerField()
    volunteer_pledge_count = serializers.IntegerField()
    signon_count = serializers.IntegerField()
    supporter_count = serializers.IntegerField()


class VerdictSerializer(serializers.Serializer):
    holds = serializers.BooleanField()
    unmet = serializers.ListField(child=serializers.CharField())
    signatures_needed = serializers.IntegerField()


class SliceSerializer(serializers.Serializer):
    key = serializers.CharField()
    money_cents = serializers.IntegerField()
    volunteer_hours = serializers.IntegerField()
    pledge_count = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    slate = serializers.CharField()
    state = serializers.ChoiceField(choices=SlateState.choices)
    currency = serializers.CharField()
    counts = CountsSerializer()
    threshold_met = serializers.BooleanField()
    verdict = VerdictSerializer()
    signed = serializers.IntegerField()
    invited = serializers.IntegerField()
    needed = serializers.IntegerField()
    seconds_left = serializers.IntegerField()
    by_state = SliceSerializer(many=True)
    by_partner = SliceSerializer(many=True)


class VolunteerHoursSerializer(serializers.Serializer):
    pledged_hours = serializers.IntegerField()
    scheduled_minutes = serializers.IntegerField()
    delivered_minutes = serializers.IntegerField()
    volunteers = serializers.IntegerField()


class VolunteerHoursRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["candidate", "partner"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    hours = VolunteerHoursSerializer()


class SlateVolunteerHoursSerializer(serializers.Serializer):
    slate = serializers.CharField()
    total = VolunteerHoursSerializer()
    candidates = VolunteerHoursRowSerializer(
        many=True, help_text="Each signed campaign: hours of the volunteers matched to it."
    )
    partners = VolunteerHoursRowSerializer(
        many=True, help_text="Each endorsing organization: hours of the volunteers it brought."
    )


class GrowthSerializer(serializers.Serializer):
    slate = serializers.CharField()
    days = SliceSerializer(many=True, help_text="One entry per day with pledges, in date order.")


class PlankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plank
        fields = ["position", "title", "summary"]


class CandidateSerializer(serializers.ModelSerializer):
    office = serializers.ChoiceField(choices=Candidate.Office.choices)
    verified = serializers.BooleanField()

    class Meta:
        model = Candidate
        fields = [
            "id", "full_name", "office", "office_label", "state", "district", "party",
            "website", "fec_candidate_id", "fec_committee_id", "verified",
        ]  # fmt: skip


class SignatureStatusSerializer(serializers.Serializer):
    signed = serializers.BooleanField()
    agreement_version = serializers.IntegerField(source="agreement_version.number", allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)


class StandingSerializer(serializers.Serializer):
    candidate = CandidateSerializer()
    required = serializers.BooleanField(source="invitation.is_required")
    invitation_status = serializers.CharField(source="invitation.status")
    signature = SignatureStatusSerializer(allow_null=True)


class AgreementVersionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AgreementVersion
        fields = ["id", "number", "title", "text", "content_hash", "published_at", "current"]

    def get_current(self, version: AgreementVersion) -> bool:
        slate = self.context.get("slate")
        return slate is not None and version.number == slate.agreement_version_number


class EndorsementSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    slate = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Endorsement
        fields = ["organization", "slate", "statement", "endorsed_at"]


class PartnerOrganizationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PartnerOrganization.Kind.choices)
    endorsed_slates = serializers.SerializerMethodField()

    class Meta:
        model = PartnerOrganization
        fields = ["slug", "name", "kind", "website", "verified", "endorsed_slates"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_endorsed_slates(self, organization: PartnerOrganization) -> list[str]:
        return [e.slate.slug for e in organization.endorsements.all()]


class ReferralTotalsSerializer(serializers.Serializer):
    slate = serializers.CharField()
    money_cents = serializers.IntegerField()
    volunteer_hours = serializers.IntegerField()
    pledge_count = serializers.IntegerField()
    referral_link = serializers.CharField()
