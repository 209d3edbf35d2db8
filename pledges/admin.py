from django.contrib import admin

from slate.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    PartnerShare,
    Pledge,
    PledgeAllocation,
    PledgeEvent,
    PledgeNotice,
    Referral,
    ReferralCode,
    SignOnRequest,
    SlateSupporter,
)


class AllocationInline(ReadOnlyInline):
    model = PledgeAllocation
    readonly_fields = ["candidate", "weight_bps"]


class EventInline(ReadOnlyInline):
    model = PledgeEvent
    readonly_fields = ["from_state", "to_state", "actor", "reason", "created_at"]


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdmin):
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


@admin.register(SlateSupporter)
class SlateSupporterAdmin(ReadOnlyAdmin):
    list_display = ["slate", "supporter", "live_pledge_count"]
    readonly_fields = ["slate", "supporter", "live_pledge_count"]


@admin.register(PledgeEvent)
class PledgeEventAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "from_state", "to_state", "actor", "created_at"]
    list_filter = ["to_state"]
    readonly_fields = ["pledge", "from_state", "to_state", "actor", "reason", "created_at"]


@admin.register(PledgeAllocation)
class PledgeAllocationAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "candidate", "weight_bps"]
    readonly_fields = ["pledge", "candidate", "weight_bps"]


@admin.register(PledgeNotice)
class PledgeNoticeAdmin(ReadOnlyAdmin):
    """The supporter-email outbox: one row per pledge and kind, settled once sent (or dropped)."""

    list_display = ["pledge", "kind", "created_at", "settled_at", "sent"]
    list_filter = ["kind", "sent"]
    readonly_fields = ["pledge", "kind", "created_at", "settled_at", "sent"]


@admin.register(SignOnRequest)
class SignOnRequestAdmin(ReadOnlyAdmin):
    """Sign-ons by email, confirmed or waiting for their link; they change only by the link."""

    list_display = ["id", "slate", "email", "supporter_state", "on_public_roll", "confirmed_at"]
    list_filter = ["slate", "on_public_roll"]
    search_fields = ["email", "name"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SignOnRequest._meta.fields]


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "supporter", "created_at"]
    search_fields = ["code", "supporter__email"]
    readonly_fields = ["code", "supporter", "created_at"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["slate", "referrer", "supporter", "created_at"]
    list_filter = ["slate"]
    readonly_fields = ["slate", "referrer", "supporter", "created_at"]


# A supporter's consent that the organization that referred them may learn they pledged.
@admin.register(PartnerShare)
class PartnerShareAdmin(ReadOnlyAdmin):
    list_display = ("supporter", "organization", "created_at")
    search_fields = ("supporter__email", "organization__name")
