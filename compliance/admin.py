"""Staff edit the rules (cycles, elections, limits) and treasurers; donors are read-only
except for merging; every look at a donor's details is logged."""

from django.contrib import admin, messages

from slate.admin_base import ReadOnlyAdmin

from . import services
from .errors import ComplianceError
from .models import (
    CaptureDecision,
    ContributionLimit,
    DeletionRequest,
    Donor,
    DonorDataAccess,
    DonorInfoRequest,
    Election,
    ElectionCycle,
    PledgeDeclaration,
    Treasurer,
    normalize,
)


class ElectionInline(admin.TabularInline):
    model = Election
    extra = 0


class LimitInline(admin.TabularInline):
    model = ContributionLimit
    extra = 0


@admin.register(ElectionCycle)
class ElectionCycleAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "itemization_threshold_cents"]
    inlines = [ElectionInline, LimitInline]


@admin.register(ContributionLimit)
class ContributionLimitAdmin(admin.ModelAdmin):
    list_display = ["cycle", "office", "election_kind", "state", "limit_cents"]
    list_filter = ["cycle", "office", "election_kind"]


@admin.register(Election)
class ElectionAdmin(admin.ModelAdmin):
    list_display = ["cycle", "kind", "state", "held_on"]
    list_filter = ["cycle", "kind"]


@admin.register(Treasurer)
class TreasurerAdmin(admin.ModelAdmin):
    list_display = ["candidate", "user", "created_at"]
    autocomplete_fields = ["user", "candidate"]


class PossibleDuplicates(admin.SimpleListFilter):
    title = "possible duplicates"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [("yes", "Same name and address as another donor (email aside)")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        seen: dict[tuple[str, ...], list[int]] = {}
        rows = Donor.objects.filter(merged_into__isnull=True).values_list(
            "pk", "first_name", "last_name", "street_1", "zip_code"
        )
        for pk, first, last, street, zip_code in rows:
            if last and street:
                key = (normalize(first), normalize(last), normalize(street), zip_code[:5])
                seen.setdefault(key, []).append(pk)
        ids = [pk for group in seen.values() if len(group) > 1 for pk in group]
        return queryset.filter(pk__in=ids)


@admin.register(Donor)
class DonorAdmin(ReadOnlyAdmin):
    """Read-only (donors edit their own details); merging is the one staff action."""

    list_display = ["id", "last_name", "first_name", "city", "state", "zip_code", "email",
                    "merged_into", "retained_for_law"]  # fmt: skip
    list_filter = [PossibleDuplicates, "retained_for_law"]
    search_fields = ["last_name", "first_name", "email", "zip_code"]
    readonly_fields = [f.name for f in Donor._meta.fields]
    actions = ["merge_into_oldest"]

    def changelist_view(self, request, extra_context=None):
        services.record_donor_data_access(
            actor=request.user, what=DonorDataAccess.What.ADMIN_LIST, request=request,
            detail=request.GET.urlencode()[:500],
        )  # fmt: skip
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        donor = Donor.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if donor is not None:
            services.record_donor_data_access(
                actor=request.user, what=DonorDataAccess.What.ADMIN_VIEW, request=request,
                donor=donor,
            )  # fmt: skip
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Merge the selected donors into the oldest of them")
    def merge_into_oldest(self, request, queryset):
        donors = list(queryset.order_by("created_at", "pk"))
        try:
            root = services.merge_donors(
                survivor=donors[0], duplicates=donors[1:], actor=request.user
            )
        except (ComplianceError, IndexError) as error:
            self.message_user(
                request, getattr(error, "message", "Choose donors to merge."), messages.ERROR
            )
            return
        self.message_user(request, f"Merged {len(donors) - 1} donor(s) into {root} (#{root.pk}).")


@admin.register(PledgeDeclaration)
class PledgeDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "donor", "allow_reallocation", "declared_at"]
    readonly_fields = [f.name for f in PledgeDeclaration._meta.fields]


@admin.register(DonorDataAccess)
class DonorDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "what", "donor", "candidate", "slate", "detail"]
    list_filter = ["what"]
    readonly_fields = [f.name for f in DonorDataAccess._meta.fields]


@admin.register(CaptureDecision)
class CaptureDecisionAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "decided_at", "capturable", "uncaptured_cents"]
    readonly_fields = [f.name for f in CaptureDecision._meta.fields]


@admin.register(DonorInfoRequest)
class DonorInfoRequestAdmin(ReadOnlyAdmin):
    list_display = ["donor", "cycle", "missing", "sent_at"]
    readonly_fields = [f.name for f in DonorInfoRequest._meta.fields]


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdmin):
    list_display = ["user", "requested_at", "completed_at"]
    readonly_fields = [f.name for f in DeletionRequest._meta.fields]
