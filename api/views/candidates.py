"""Candidates, and a candidate's own signature on a slate's agreement."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from candidates import selectors as candidate_selectors
from candidates import signatures as candidate_signatures
from candidates.models import Candidate, Signature
from slate.geography import US_STATES

from ..fields import StrictCharField, StrictIntegerField
from ..filters import StrictFilterSet
from ..permissions import IsAuthenticated, TwoFactorForRoles, visible_slate
from ..serializers.slates import CandidateSerializer


class CandidateFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=US_STATES)
    office = django_filters.ChoiceFilter(choices=Candidate.Office.choices)
    verified = django_filters.BooleanFilter(
        field_name="verified_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Candidate
        fields = ["state", "office", "verified"]


class CandidateList(generics.ListAPIView):
    """Candidates invited to published slates (organizers also see those of their drafts)."""

    serializer_class = CandidateSerializer
    permission_classes = [AllowAny]
    filterset_class = CandidateFilter
    ordering_fields = ["full_name", "state", "created_at"]
    ordering = ["full_name", "id"]

    def get_queryset(self):
        return candidate_selectors.candidates_visible_to(self.request.user)


class CandidateDetail(generics.RetrieveAPIView):
    serializer_class = CandidateSerializer
    permission_classes = [AllowAny]

    def get_object(self):
        candidate = (
            candidate_selectors.candidates_visible_to(self.request.user)
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if candidate is None:
            raise Http404("No such candidate.")
        return candidate


class SignRequestSerializer(serializers.Serializer):
    agreement_version = StrictIntegerField(
        min_value=1, help_text="The id of the current published version (you sign what you read)."
    )
    typed_name = StrictCharField(max_length=200, help_text="Your full name, exactly.")


class WithdrawRequestSerializer(serializers.Serializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=500)


class SignatureSerializer(serializers.ModelSerializer):
    candidate = serializers.IntegerField(source="candidate_id")
    slate = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agreement_version = serializers.IntegerField(source="agreement_version.number")
    content_hash = serializers.CharField(source="agreement_version.content_hash")

    class Meta:
        model = Signature
        fields = [
            "id", "candidate", "slate", "agreement_version", "content_hash", "typed_name",
            "signed_at", "withdrawn_at", "withdrawal_reason",
        ]  # fmt: skip


def _own_candidate(request, slate) -> Candidate:
    """The caller's candidate profile, if it is invited to ``slate``; else 403."""
    candidate = candidate_selectors.candidate_for_user(request.user)
    if candidate is None:
        raise PermissionDenied("This account has no candidate profile.")
    if not candidate_selectors.active_invitations(slate).filter(candidate=candidate).exists():
        raise PermissionDenied("You are not invited to this slate.")
    return candidate


class MySignature(APIView):
    """A candidate reads, signs or (via ``withdraw``) withdraws their own signature."""

    permission_classes = [IsAuthenticated, TwoFactorForRoles]

    @extend_schema(responses=SignatureSerializer)
    def get(self, request, slug: str):
        slate = visible_slate(request, slug)
        signature = candidate_selectors.active_signature(_own_candidate(request, slate), slate)
        if signature is None:
            raise Http404("You have not signed this slate's agreement.")
        return Response(SignatureSerializer(signature).data)

    @extend_schema(request=SignRequestSerializer, responses={201: SignatureSerializer})
    def post(self, request, slug: str):
        slate = visible_slate(request, slug)
        candidate = _own_candidate(request, slate)
        body = SignRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signature = candidate_signatures.sign_agreement(
            candidate=candidate,
            slate=slate,
            agreement_version_id=body.validated_data["agreement_version"],
            typed_name=body.validated_data["typed_name"],
            signer=request.user,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


class WithdrawSignature(APIView):
    permission_classes = [IsAuthenticated, TwoFactorForRoles]

    @extend_schema(request=WithdrawRequestSerializer, responses=SignatureSerializer)
    def post(self, request, slug: str):
        slate = visible_slate(request, slug)
        candidate = _own_candidate(request, slate)
        body = WithdrawRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signature = candidate_signatures.withdraw_signature(
            candidate=candidate,
            slate=slate,
            signer=request.user,
            reason=body.validated_data.get("reason", ""),
        )
        return Response(SignatureSerializer(signature).data)
