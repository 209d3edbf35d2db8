from django.contrib import admin

from .models import Pledge, PledgeAllocation, PledgeEvent, SlateSupporter


class AllocationInline(admin.TabularInline):
    model = PledgeAllocation
    extra = 0
    readonly_fields = ["candidate", "weight_bps"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = PledgeEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Pledge)
class PledgeAdmin(admin.ModelAdmin):
    """Read-only: a pledge changes only through its services, which keep totals and history."""

    list_display = [
        "id",
        "supporter",
        "slate",
        "kind",
        "state",
        "amount_cents",
        "hours",
        "created_at",
    ]
    list_filter = ["kind", "state", "slate"]
    search_fields = ["supporter__email", "zip_code"]
    list_select_related = ["supporter", "slate"]
    inlines = [AllocationInline, EventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Pledge._meta.fields] + ["condition_required_candidates"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlateSupporter)
class SlateSupporterAdmin(admin.ModelAdmin):
    list_display = ["slate", "supporter", "live_pledge_count"]
    readonly_fields = ["slate", "supporter", "live_pledge_count"]

    def has_add_permission(self, request):
        return False


@admin.register(PledgeEvent)
class PledgeEventAdmin(admin.ModelAdmin):
    list_display = ["pledge", "from_state", "to_state", "actor", "created_at"]
    list_filter = ["to_state"]
    readonly_fields = ["pledge", "from_state", "to_state", "actor", "reason", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PledgeAllocation)
class PledgeAllocationAdmin(admin.ModelAdmin):
    list_display = ["pledge", "candidate", "weight_bps"]
    readonly_fields = ["pledge", "candidate", "weight_bps"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
