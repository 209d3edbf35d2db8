"""A supporter's own pledges: create (idempotent with ``Idempotency-Key``), list, read, cancel."""

import django_filters
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escrow import voiding
from pledges import intake as pledge_intake
from pledges import selectors as pledge_selectors
from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.states import PledgeKind, PledgeState
from slate.models import PartnerOrganization

from .. import services
from ..filters import StrictFilterSet
from ..permissions import IsAuthenticated, slate_named_in_body
from ..serializers.pledges import CancelSerializer, PledgeCreateSerializer, PledgeSerializer

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID). Retrying with the same key and body returns the first "
        "answer; the same key with a different body is refused with 422."
    ),
)


class PledgeFilter(StrictFilterSet):
    slate = django_filters.CharFilter(field_name="slate__slug", max_length=80)
    kind = django_filters.ChoiceFilter(choices=PledgeKind.choices)
    state = django_filters.ChoiceFilter(choices=PledgeState.choices)

    class Meta:
        model = Pledge
        fields = ["slate", "kind", "state"]


def _create_pledge(request, data: dict) -> Pledge:
    """Hand the checked fields to the pledges service for their kind."""
    slate = slate_named_in_body(request, data["slate"])
    referred_by = None
    if data.get("referred_by"):
        referred_by = PartnerOrganization.objects.filter(slug=data["referred_by"]).first()
        if referred_by is None:
            raise pledge_services.PledgeError(
                "invalid_referral", "No such organization.", field="referred_by"
            )
    common = {
        "supporter": request.user,
        "slate": slate,
        "supporter_state": data.get("supporter_state", ""),
        "referred_by": referred_by,
    }
    kind = data["kind"]
    if kind == PledgeKind.MONEY:
        allocation = data.get("allocation")
        return pledge_intake.create_money_pledge(
            **common,
            amount_cents=data["amount_cents"],
            condition_min_signatures=data.get("condition_min_signatures"),
            condition_candidate_ids=data.get("condition_candidates", []),
            allocation=(
                {share["candidate"]: share["weight_bps"] for share in allocation}
                if allocation
                else None
            ),
            attestations=data.get("attestations"),
            donor_details=data.get("donor_details"),
            allow_reallocation=data.get("allow_reallocation", False),
            accept_limit_cap=data.get("accept_limit_cap", False),
        )
    if kind == PledgeKind.VOLUNTEER:
        return pledge_intake.create_volunteer_pledge(
            **common,
            hours=data["hours"],
            activities=data["activities"],
            zip_code=data["zip_code"],
            availability=data.get("availability", ""),
        )
    return pledge_intake.sign_on(**common)


class PledgeListCreate(generics.ListCreateAPIView):
    """Your own pledges, newest first; ``POST`` makes a money, volunteer or sign-on pledge.

    A money pledge starts ``pending_card``: the supporter saves a card at ``card_url``."""

    serializer_class = PledgeSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = PledgeFilter
    ordering_fields = ["created_at", "amount_cents", "hours"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pledge.objects.none()
        return pledge_selectors.pledges_of(self.request.user)

    @extend_schema(
        request=PledgeCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: PledgeSerializer},
    )
    def post(self, request):
        def perform() -> tuple[int, dict]:
            body = PledgeCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            pledge = _create_pledge(request, body.validated_data)
            return status.HTTP_201_CREATED, PledgeSerializer(pledge).data

        key = request.headers.get("Idempotency-Key")
        if key is None:
            code, data = perform()
            return Response(data, status=code)
        code, data, replayed = services.run_idempotent(
            user=request.user, key=key, endpoint="pledges.create", payload=request.data,
            perform=perform,
        )  # fmt: skip
        response = Response(data, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _own_pledge(request, pk: int) -> Pledge:
    pledge = pledge_selectors.pledges_of(request.user).filter(pk=pk).first()
    if pledge is None:  # another supporter's pledge: not even its existence is shown
        raise Http404("No such pledge.")
    return pledge


class PledgeDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PledgeSerializer)
    def get(self, request, pk: int):
        return Response(PledgeSerializer(_own_pledge(request, pk)).data)


class PledgeCancel(APIView):
    """Cancel your pledge before the slate locks; a hold on your card is released first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CancelSerializer, responses=PledgeSerializer)
    def post(self, request, pk: int):
        pledge = _own_pledge(request, pk)
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pledge = voiding.cancel_pledge(
            pledge=pledge, actor=request.user, reason=body.validated_data.get("reason", "")
        )
        return Response(PledgeSerializer(pledge).data)
