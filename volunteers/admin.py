from django.contrib import admin

from slate.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CampaignOffice,
    CampaignStaff,
    MatchChange,
    MatchingRound,
    Shift,
    ShiftSignup,
    StaffInvitation,
    VolunteerEvent,
    VolunteerMatch,
)


@admin.register(CampaignStaff)
class CampaignStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "candidate", "added_at"]
    search_fields = ["user__email", "candidate__full_name"]
    autocomplete_fields = []
    raw_id_fields = ["user", "candidate"]


@admin.register(StaffInvitation)
class StaffInvitationAdmin(ReadOnlyAdmin):
    """Read-only: invitations are made, withdrawn and accepted by the candidate and the
    invited person (``volunteers.staff_invitations``), and their state is the link's."""

    list_display = ["email", "candidate", "created_at", "accepted_at", "withdrawn_at"]
    search_fields = ["email", "candidate__full_name"]


@admin.register(CampaignOffice)
class CampaignOfficeAdmin(admin.ModelAdmin):
    list_display = ["candidate", "zip_code"]
    raw_id_fields = ["candidate"]


class MatchChangeInline(ReadOnlyInline):
    model = MatchChange
    readonly_fields = ["from_candidate", "to_candidate", "actor", "reason", "created_at"]


@admin.register(VolunteerMatch)
class VolunteerMatchAdmin(ReadOnlyAdmin):
    """Read-only: matches are made by the matching job and changed by volunteers."""

    list_display = ["pledge", "slate", "candidate", "mode", "distance_miles", "chosen_by_volunteer"]
    list_filter = ["slate", "mode", "chosen_by_volunteer"]
    inlines = [MatchChangeInline]


@admin.register(MatchingRound)
class MatchingRoundAdmin(ReadOnlyAdmin):
    list_display = ["slate", "started_at", "completed_at", "matched_count", "unmatched_count"]


class ShiftInline(ReadOnlyInline):
    model = Shift
    fields = readonly_fields = [
        "starts_at",
        "ends_at",
        "activity",
        "mode",
        "capacity",
        "confirmed_count",
    ]


@admin.register(VolunteerEvent)
class VolunteerEventAdmin(ReadOnlyAdmin):
    list_display = ["title", "slate", "candidate", "organization", "created_at"]
    inlines = [ShiftInline]


@admin.register(ShiftSignup)
class ShiftSignupAdmin(ReadOnlyAdmin):
    list_display = ["shift", "volunteer", "status", "attended", "delivered_minutes"]
    list_filter = ["status", "attended"]
