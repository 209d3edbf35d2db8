"""Staff see tokens (never their secrets), webhook endpoints and the delivery log; only the
services write them."""

from django.contrib import admin

from slate.admin_base import ReadOnlyAdmin

from .models import PersonalAccessToken, WebhookDelivery, WebhookEndpoint


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "user__email", "prefix"]
    exclude = ["token_hash"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["organization", "url", "created_at", "disabled_at"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
