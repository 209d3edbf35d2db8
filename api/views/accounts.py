"""Who am I, and my personal access tokens."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from candidates.selectors import candidate_for_user

from .. import services
from ..authentication import PasswordForTokenAuthentication
from ..fields import StrictCharField
from ..models import PersonalAccessToken
from ..permissions import IsAuthenticated, credentials_second_factor_at


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    is_staff = serializers.BooleanField()
    candidate = serializers.IntegerField(allow_null=True, help_text="Your candidate profile id.")
    organized_slates = serializers.ListField(child=serializers.CharField())
    administered_organizations = serializers.ListField(child=serializers.CharField())


class Me(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        candidate = candidate_for_user(user)
        data = {
            "id": user.pk,
            "email": user.email,
            "is_staff": user.is_staff,
            "candidate": candidate.pk if candidate else None,
            "organized_slates": list(user.organized_slates.values_list("slug", flat=True)),
            "administered_organizations": list(
                user.administered_organizations.values_list("slug", flat=True)
            ),
        }
        return Response(MeSerializer(data).data)


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField()

    class Meta:
        model = PersonalAccessToken
        fields = [
            "id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active",
            "second_factor_at",
        ]  # fmt: skip
        extra_kwargs = {
            "second_factor_at": {
                "help_text": "When the login that made the token passed two-factor "
                "authentication; null if it did not (then the token cannot act for an "
                "organizer, candidate, partner admin or staff member)."
            }
        }


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The token itself. Shown this once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenRequestSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100, help_text="What will use the token.")


class TokenListCreate(generics.ListAPIView):
    """Your personal access tokens. ``POST`` makes one; it may also be called with HTTP Basic
    (email and password) so a script can get its first token with curl, for accounts without
    two-factor; failed tries share the login form's limits (429). A token can act for an
    organizer, candidate, partner admin or staff member only if the login that made it passed
    two-factor (``second_factor_at``): a browser session that did, or such a token."""

    serializer_class = TokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        request = getattr(self, "request", None)  # None while the schema is generated
        if request is not None and request.method == "POST":
            authenticators.append(PasswordForTokenAuthentication())
        return authenticators

    def get_queryset(self):
        return PersonalAccessToken.objects.filter(user=self.request.user)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: NewTokenSerializer},
        examples=[OpenApiExample("A script", value={"name": "nightly export"}, request_only=True)],
    )
    def post(self, request):
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, raw = services.create_token(
            user=request.user,
            name=body.validated_data["name"],
            second_factor_at=credentials_second_factor_at(request),
        )
        data = {**TokenSerializer(token).data, "token": raw}
        return Response(NewTokenSerializer(data).data, status=status.HTTP_201_CREATED)


class TokenRevoke(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        token = PersonalAccessToken.objects.filter(pk=pk, user=request.user).first()
        if token is None:
            raise Http404("No such token.")
        services.revoke_token(token=token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
