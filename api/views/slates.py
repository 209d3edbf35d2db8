"""Read endpoints of slates: list, detail, totals, planks, candidates, growth, agreement
versions, endorsements; and the slate's pledges for its organizers."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from candidates import selectors as candidate_selectors
from compliance import services as compliance_services
from compliance.models import DonorDataAccess
from pledges import selectors as pledge_selectors
from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate import selectors as slate_selectors
from slate.models import Slate
from slate.states import SlateState
from slate.totals import NO_PARTNER_KEY
from volunteers import hours as volunteer_hours

from ..filters import StrictFilterSet
from ..permissions import IsAuthenticated, TwoFactorForRoles, visible_slate
from ..serializers.pledges import SlatePledgeSerializer
from ..serializers.slates import (
    AgreementVersionSerializer,
    EndorsementSerializer,
    GrowthSerializer,
    PlankSerializer,
    SlateSerializer,
    SlateVolunteerHoursSerializer,
    StandingSerializer,
    TotalsSerializer,
)


def _slices(rows) -> list[dict]:
    return [
        {"key": key, "money_cents": c.money_cents, "volunteer_hours": c.volunteer_hours,
         "pledge_count": c.pledge_count}
        for key, c in rows
    ]  # fmt: skip


def _signature_status(signature) -> dict | None:
    if signature is None:
        return None
    return {
        "signed": True,
        "agreement_version": signature.agreement_version,
        "signed_at": signature.signed_at,
    }


class SlateFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=SlateState.choices)

    class Meta:
        model = Slate
        fields = ["state"]


class SlateList(generics.ListAPIView):
    """Slates you can see: every published slate, and drafts you organize."""

    serializer_class = SlateSerializer
    permission_classes = [AllowAny]
    filterset_class = SlateFilter
    ordering_fields = ["deadline", "created_at", "name"]
    ordering = ["deadline", "id"]

    def get_queryset(self):
        return slate_selectors.slates_visible_to(self.request.user)


class SlateDetail(generics.RetrieveAPIView):
    serializer_class = SlateSerializer
    permission_classes = [AllowAny]

    def get_object(self):
        return visible_slate(self.request, self.kwargs["slug"])


class SlateTotals(APIView):
    """The slate's maintained totals and threshold progress (O(1): no scan of pledges)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=TotalsSerializer)
    def get(self, request, slug: str):
        slate = visible_slate(request, slug)
        progress = slate_selectors.slate_progress(slate)
        data = {
            "slate": slate.slug,
            "state": slate.state,
            "currency": "usd",
            "counts": progress.counts,
            "threshold_met": progress.verdict.holds,
            "verdict": progress.verdict,
            "signed": progress.signed,
            "invited": progress.invited,
            "needed": progress.needed,
            "seconds_left": int(progress.time_left.total_seconds()),
            "by_state": _slices(slate_selectors.slate_breakdown(slate.pk, "state")),
            "by_partner": [
                {
                    "key": p.organization.slug if p.organization else NO_PARTNER_KEY,
                    "money_cents": p.counts.money_cents,
                    "volunteer_hours": p.counts.volunteer_hours,
                    "pledge_count": p.counts.pledge_count,
                }
                for p in slate_selectors.partner_breakdown(slate.pk)
            ],
        }
        return Response(TotalsSerializer(data).data)


class SlateVolunteerHours(APIView):
    """Volunteer hours pledged, scheduled and delivered: for the slate, each signed campaign
    and each endorsing organization (aggregates only; no volunteer is named)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=SlateVolunteerHoursSerializer)
    def get(self, request, slug: str):
        slate = visible_slate(request, slug)
        summary = volunteer_hours.slate_volunteer_summary(slate)

        def row(entry):
            return {"kind": entry.kind, "id": entry.key, "name": entry.label, "hours": entry.hours}

        data = {
            "slate": slate.slug,
            "total": summary.total,
            "candidates": [row(entry) for entry in summary.candidates],
            "partners": [row(entry) for entry in summary.partners],
        }
        return Response(SlateVolunteerHoursSerializer(data).data)


class SlateGrowth(APIView):
    """Daily pledges, money and hours: the growth chart's series."""

    permission_classes = [AllowAny]

    @extend_schema(responses=GrowthSerializer)
    def get(self, request, slug: str):
        slate = visible_slate(request, slug)
        days = _slices(slate_selectors.slate_breakdown(slate.pk, "day"))
        return Response(GrowthSerializer({"slate": slate.slug, "days": days}).data)


class SlatePlanks(generics.ListAPIView):
    serializer_class = PlankSerializer
    permission_classes = [AllowAny]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return visible_slate(self.request, self.kwargs["slug"]).planks.order_by("position")


class SlateCandidates(APIView):
    """The invited candidates with their signature status on the current agreement, signed
    first."""

    permission_classes = [AllowAny]

    @extend_schema(responses=StandingSerializer(many=True))
    def get(self, request, slug: str):
        slate = visible_slate(request, slug)
        standings = candidate_selectors.slate_candidate_standings(slate)
        rows = [
            {
                "candidate": s.candidate,
                "invitation": s.invitation,
                "signature": _signature_status(s.signature),
            }
            for s in standings
        ]
        return Response(StandingSerializer(rows, many=True).data)


class AgreementVersions(generics.ListAPIView):
    """Published versions of the slate's coordination agreement, oldest first."""

    serializer_class = AgreementVersionSerializer
    permission_classes = [AllowAny]
    pagination_class = None
    filter_backends = []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "slate": getattr(self, "slate", None)}

    def get_queryset(self):
        self.slate = visible_slate(self.request, self.kwargs["slug"])
        return candidate_selectors.published_agreement_versions(self.slate)


class AgreementVersionDetail(generics.RetrieveAPIView):
    serializer_class = AgreementVersionSerializer
    permission_classes = [AllowAny]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "slate": getattr(self, "slate", None)}

    def get_object(self):
        self.slate = visible_slate(self.request, self.kwargs["slug"])
        version = (
            candidate_selectors.published_agreement_versions(self.slate)
            .filter(number=self.kwargs["number"])
            .first()
        )
        if version is None:
            raise Http404("No such published version.")
        return version


class SlateEndorsements(generics.ListAPIView):
    serializer_class = EndorsementSerializer
    permission_classes = [AllowAny]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        slate = visible_slate(self.request, self.kwargs["slug"])
        return (
            slate_selectors.public_endorsements(slate.pk)
            .select_related("organization", "slate")
            .order_by("endorsed_at", "pk")
        )


class SlatePledgeFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=PledgeKind.choices)
    state = django_filters.ChoiceFilter(choices=PledgeState.choices)

    class Meta:
        model = Pledge
        fields = ["kind", "state"]


class SlatePledges(generics.ListAPIView):
    """Every pledge to the slate, for its organizers (and staff). ``donor`` is filled only
    where the caller's role allows seeing who pledged."""

    serializer_class = SlatePledgeSerializer
    permission_classes = [IsAuthenticated, TwoFactorForRoles]
    filterset_class = SlatePledgeFilter
    ordering_fields = ["created_at", "amount_cents", "hours"]
    ordering = ["-created_at", "-id"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        slate = getattr(self, "slate", None)  # None while the schema is generated
        context["donor_details"] = slate is not None and pledge_selectors.may_view_donor_details(
            self.request.user, slate
        )
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pledge.objects.none()
        self.slate = visible_slate(self.request, self.kwargs["slug"])
        if not slate_selectors.is_organizer(self.request.user, self.slate):
            raise PermissionDenied("Only this slate's organizers see its pledges.")
        if pledge_selectors.may_view_donor_details(self.request.user, self.slate):
            compliance_services.record_donor_data_access(
                actor=self.request.user, what=DonorDataAccess.What.API_PLEDGES,
                request=self.request, slate=self.slate,
            )  # fmt: skip
        return pledge_selectors.pledges_of_slate(self.slate)
