from django.contrib import admin

from . import services
from .admin_base import ReadOnlyAdmin, ReadOnlyInline
from .models import (
    DeadlineExtension,
    Endorsement,
    PartnerOrganization,
    Plank,
    Slate,
    SlateBreakdownShard,
    SlateCounterShard,
    SlateOrganizer,
    SlateTransition,
)


class PlankInline(admin.TabularInline):
    model = Plank
    extra = 0


class OrganizerInline(admin.TabularInline):
    model = SlateOrganizer
    extra = 0
    autocomplete_fields = ["user"]


class TransitionInline(ReadOnlyInline):
    model = SlateTransition
    readonly_fields = ["from_state", "to_state", "actor", "reason", "created_at", "dispatched_at"]


@admin.register(Slate)
class SlateAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "state",
        "deadline",
        "signed_candidate_count",
        "threshold_min_signatures",
    ]
    list_filter = ["state"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    # The lifecycle changes only through services, so that every change is recorded.
    readonly_fields = [
        "state", "signed_candidate_count", "invited_candidate_count", "required_unsigned_count",
        "agreement_version_number", "opened_at", "locked_at", "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [PlankInline, OrganizerInline, TransitionInline]


@admin.register(SlateTransition)
class SlateTransitionAdmin(ReadOnlyAdmin):
    list_display = ["slate", "from_state", "to_state", "actor", "created_at", "dispatched_at"]
    list_filter = ["to_state"]
    readonly_fields = [f.name for f in SlateTransition._meta.fields]


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin):
    list_display = ["slate", "previous_deadline", "new_deadline", "actor", "dispatched_at"]
    readonly_fields = [f.name for f in DeadlineExtension._meta.fields]


@admin.register(PartnerOrganization)
class PartnerOrganizationAdmin(admin.ModelAdmin):
    """Staff verify an organization (it is who it says it is) with the actions, through the
    service: until then its endorsements are not shown and it hears no webhook events."""

    list_display = ["name", "kind", "website", "verified", "created_at"]
    list_filter = ["verified", "kind"]
    search_fields = ["name", "slug", "website", "admins__email"]
    filter_horizontal = ["admins"]
    readonly_fields = ["verified"]
    actions = ["verify", "withdraw_verification"]

    @admin.action(description="Verify the selected organizations")
    def verify(self, request, queryset):
        for organization in queryset:
            services.verify_partner_organization(organization=organization, actor=request.user)
        self.message_user(request, f"Verified {len(queryset)} organization(s).")

    @admin.action(description="Withdraw verification of the selected organizations")
    def withdraw_verification(self, request, queryset):
        for organization in queryset:
            services.unverify_partner_organization(organization=organization, actor=request.user)
        self.message_user(request, f"Withdrew verification of {len(queryset)} organization(s).")


@admin.register(Endorsement)
class EndorsementAdmin(admin.ModelAdmin):
    list_display = ["organization", "slate", "endorsed_at"]
    list_select_related = ["organization", "slate"]


class ReadOnlyCounterAdmin(ReadOnlyAdmin):
    """Counters are written only by services; repair drift with `manage.py recount_totals`."""


@admin.register(SlateCounterShard)
class SlateCounterShardAdmin(ReadOnlyCounterAdmin):
    list_display = ["slate", "shard", "money_pledged_cents", "volunteer_hours", "signon_count"]
    list_filter = ["slate"]


@admin.register(SlateBreakdownShard)
class SlateBreakdownShardAdmin(ReadOnlyCounterAdmin):
    list_display = ["slate", "dimension", "key", "shard", "money_cents", "pledge_count"]
    list_filter = ["slate", "dimension"]


@admin.register(Plank)
class PlankAdmin(admin.ModelAdmin):
    list_display = ["slate", "position", "title"]
    list_filter = ["slate"]


@admin.register(SlateOrganizer)
class SlateOrganizerAdmin(admin.ModelAdmin):
    list_display = ["slate", "user", "added_at"]
    autocomplete_fields = ["user"]
