"""A partner organization's webhook endpoints and their delivery log (its admins only)."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from slate import selectors as slate_selectors

from .. import webhooks
from ..fields import StrictCharField, StrictChoiceField, StrictListField
from ..filters import StrictFilterSet
from ..models import WebhookDelivery, WebhookEndpoint
from ..permissions import IsAuthenticated, TwoFactorForRoles, visible_organization


def administered_organization(request, slug: str):
    organization = visible_organization(request, slug)
    if not slate_selectors.is_partner_admin(request.user, organization):
        raise PermissionDenied("Only the organization's admins see its webhooks.")
    return organization


class WebhookEndpointSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField()
    event_types = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "event_types", "created_at", "disabled_at", "active"]


class NewWebhookEndpointSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="Verifies the Slate-Signature header of every delivery. Shown this once."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointRequestSerializer(serializers.Serializer):
    url = StrictCharField(max_length=500)
    event_types = StrictListField(
        child=StrictChoiceField(choices=[(t, t) for t in webhooks.EVENT_TYPES]),
        required=False,
        max_length=len(webhooks.EVENT_TYPES),
        help_text="Empty or left out: every event.",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event_id", "event_type", "status", "attempts", "last_status_code",
            "last_error", "next_attempt_at", "delivered_at", "created_at", "payload",
        ]  # fmt: skip


class WebhookEndpoints(generics.ListAPIView):
    """The organization's webhook endpoints; ``POST`` registers one (its secret is in the
    answer, once)."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAuthenticated, TwoFactorForRoles]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        organization = administered_organization(self.request, self.kwargs["slug"])
        return WebhookEndpoint.objects.filter(organization=organization)

    @extend_schema(
        request=WebhookEndpointRequestSerializer, responses={201: NewWebhookEndpointSerializer}
    )
    def post(self, request, slug: str):
        organization = administered_organization(request, slug)
        body = WebhookEndpointRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = webhooks.register_endpoint(
            organization=organization,
            url=body.validated_data["url"],
            event_types=body.validated_data.get("event_types", []),
            actor=request.user,
        )
        data = NewWebhookEndpointSerializer(endpoint).data
        return Response(data, status=status.HTTP_201_CREATED)


def _endpoint(request, slug: str, pk: int) -> WebhookEndpoint:
    organization = administered_organization(request, slug)
    endpoint = WebhookEndpoint.objects.filter(organization=organization, pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


class WebhookEndpointDetail(APIView):
    permission_classes = [IsAuthenticated, TwoFactorForRoles]

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str, pk: int):
        """Stop sending to this endpoint (its log is kept)."""
        webhooks.disable_endpoint(endpoint=_endpoint(request, slug, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event_type = django_filters.ChoiceFilter(choices=[(t, t) for t in webhooks.EVENT_TYPES])

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type"]


class WebhookDeliveries(generics.ListAPIView):
    """The delivery log of one endpoint, newest first."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsAuthenticated, TwoFactorForRoles]
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        endpoint = _endpoint(self.request, self.kwargs["slug"], self.kwargs["pk"])
        return endpoint.deliveries.all()
