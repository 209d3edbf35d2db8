from django.contrib import admin

from . import lifecycle, mail, partners
from .admin_base import ReadOnlyAdmin, ReadOnlyInline
from .errors import SlateError
from .models import (
    DeadlineExtension,
    EmailOptOut,
    EmailSuppression,
    Endorsement,
    MailgunWebhookToken,
    MilestoneNews,
    OrganizerInvitation,
    OutboundEmail,
    PartnerCode,
    PartnerLogo,
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
    actions = ["approve_for_publication"]

    @admin.action(description="Approve the selected slates in review (they go public)")
    def approve_for_publication(self, request, queryset):
        """The review queue's approval (refusing needs a reason: /organize/review/)."""
        for slate in queryset.filter(state="review"):
            try:
                lifecycle.approve_slate(slate=slate, actor=request.user)
            except SlateError as error:
                self.message_user(request, f"{slate}: {error.message}", level="error")
            else:
                self.message_user(request, f"{slate} is public now.")


@admin.register(OrganizerInvitation)
class OrganizerInvitationAdmin(ReadOnlyAdmin):
    list_display = ["slate", "email", "invited_by", "created_at", "accepted_at"]
    readonly_fields = [f.name for f in OrganizerInvitation._meta.fields]


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
            partners.verify_partner_organization(organization=organization, actor=request.user)
        self.message_user(request, f"Verified {len(queryset)} organization(s).")

    @admin.action(description="Withdraw verification of the selected organizations")
    def withdraw_verification(self, request, queryset):
        for organization in queryset:
            partners.unverify_partner_organization(organization=organization, actor=request.user)
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


# --- Email --------------------------------------------------------------------------------------


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """Every email sent (or not sent, and why). Staff suppress an address from here: it gets
    nothing more, transactional mail included, until the suppression is deleted."""

    list_display = ["created_at", "to", "subject", "category", "status", "slate"]
    list_filter = ["status", "category"]
    list_select_related = ["slate"]
    search_fields = ["to", "subject", "key"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["suppress_recipients"]

    @admin.action(description="Suppress the recipients of the selected emails (send them nothing)")
    def suppress_recipients(self, request, queryset):
        addresses = sorted(set(queryset.values_list("to", flat=True)))
        added = sum(
            mail.suppress(
                address,
                reason=EmailSuppression.Reason.MANUAL,
                detail=f"by {request.user.email or request.user.pk} from the email log",
            )
            for address in addresses
        )
        self.message_user(request, f"Suppressed {added} new address(es) of {len(addresses)}.")


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):
    """Addresses nothing is sent to: bounces and complaints the mail provider reported, and
    staff's own. Add one to suppress it by hand; delete one to send to it again."""

    list_display = ["address", "reason", "provider", "created_at"]
    list_filter = ["reason", "provider"]
    search_fields = ["address"]
    readonly_fields = ["provider", "created_at"]

    def save_model(self, request, obj, form, change):
        obj.address = mail.normalize(obj.address)
        super().save_model(request, obj, form, change)


@admin.register(EmailOptOut)
class EmailOptOutAdmin(ReadOnlyAdmin):
    """What each address turned off (on its preferences page or by one-click unsubscribe)."""

    list_display = ["address", "category", "slate", "created_at"]
    list_filter = ["category"]
    search_fields = ["address"]


@admin.register(MilestoneNews)
class MilestoneNewsAdmin(ReadOnlyAdmin):
    list_display = ("slate", "kind", "period", "covers_until", "created_at")
    list_filter = ("kind",)


@admin.register(PartnerCode)
class PartnerCodeAdmin(admin.ModelAdmin):
    list_display = ["organization", "label", "kind", "code", "created_at"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "label", "code"]


@admin.register(PartnerLogo)
class PartnerLogoAdmin(ReadOnlyAdmin):
    list_display = ["organization", "updated_at"]
    readonly_fields = ["organization", "updated_at"]
    exclude = ["png"]


@admin.register(MailgunWebhookToken)
class MailgunWebhookTokenAdmin(ReadOnlyAdmin):
    """Mailgun webhook calls seen (as hashes of their tokens), for tracing a refused replay."""

    list_display = ["token_sha256", "seen_at", "expires_at"]
    search_fields = ["token_sha256"]
    readonly_fields = ["token_sha256", "seen_at", "expires_at"]
