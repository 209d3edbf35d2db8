"""Partner organizations: list, detail, endorsements, and what their referral links brought."""

import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from slate import partners as slate_partners
from slate import selectors as slate_selectors
from slate.models import PartnerOrganization

from ..fields import StrictCharField
from ..filters import StrictFilterSet
from ..permissions import (
    IsAuthenticated,
    TwoFactorForRoles,
    slate_named_in_body,
    visible_organization,
    visible_slate,
)
from ..serializers.slates import (
    EndorsementSerializer,
    PartnerOrganizationSerializer,
    ReferralTotalsSerializer,
)


def _administered(request, slug: str) -> PartnerOrganization:
    organization = visible_organization(request, slug)
    if not slate_selectors.is_partner_admin(request.user, organization):
        raise PermissionDenied("Only the organization's admins may do that.")
    return organization


class PartnerFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=PartnerOrganization.Kind.choices)
    verified = django_filters.BooleanFilter()

    class Meta:
        model = PartnerOrganization
        fields = ["kind", "verified"]


class PartnerList(generics.ListAPIView):
    """Verified partner organizations (admins also see their own unverified one)."""

    serializer_class = PartnerOrganizationSerializer
    permission_classes = [AllowAny]
    filterset_class = PartnerFilter
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return slate_selectors.partner_organizations_visible_to(self.request.user).prefetch_related(
            "endorsements__slate"
        )


class PartnerDetail(generics.RetrieveAPIView):
    serializer_class = PartnerOrganizationSerializer
    permission_classes = [AllowAny]

    def get_object(self):
        return visible_organization(self.request, self.kwargs["slug"])


class PartnerReferrals(APIView):
    """Per endorsed slate, what the organization's referral link brought (aggregates only:
    never who pledged)."""

    permission_classes = [IsAuthenticated, TwoFactorForRoles]

    @extend_schema(responses=ReferralTotalsSerializer(many=True))
    def get(self, request, slug: str):
        organization = _administered(request, slug)
        rows = [
            {
                "slate": slate.slug,
                "money_cents": counts.money_cents,
                "volunteer_hours": counts.volunteer_hours,
                "pledge_count": counts.pledge_count,
                "referral_link": request.build_absolute_uri(
                    reverse("slate:referral", args=[organization.slug, slate.slug])
                ),
            }
            for slate, counts in slate_selectors.referral_totals(organization)
        ]
        return Response(ReferralTotalsSerializer(rows, many=True).data)


class EndorseRequestSerializer(serializers.Serializer):
    slate = StrictCharField(max_length=80, help_text="The slate's slug.")
    statement = StrictCharField(required=False, allow_blank=True, max_length=2000)


class PartnerEndorsements(APIView):
    """The organization's endorsements; its admins endorse a slate with ``POST``."""

    permission_classes = [AllowAny]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), TwoFactorForRoles()]
        return super().get_permissions()

    @extend_schema(responses=EndorsementSerializer(many=True))
    def get(self, request, slug: str):
        organization = visible_organization(request, slug)
        endorsements = organization.endorsements.select_related("organization", "slate")
        return Response(EndorsementSerializer(endorsements.order_by("endorsed_at"), many=True).data)

    @extend_schema(request=EndorseRequestSerializer, responses={201: EndorsementSerializer})
    def post(self, request, slug: str):
        organization = _administered(request, slug)
        body = EndorseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slate = slate_named_in_body(request, body.validated_data["slate"])
        endorsement = slate_partners.endorse_slate(
            organization=organization,
            slate=slate,
            actor=request.user,
            statement=body.validated_data.get("statement", ""),
        )
        return Response(EndorsementSerializer(endorsement).data, status=status.HTTP_201_CREATED)


class PartnerEndorsementDetail(APIView):
    permission_classes = [IsAuthenticated, TwoFactorForRoles]

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str, slate_slug: str):
        organization = _administered(request, slug)
        slate = visible_slate(request, slate_slug)
        slate_partners.withdraw_endorsement(
            organization=organization, slate=slate, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
