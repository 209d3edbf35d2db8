"""Staff views of money. The ledger, payments and webhook events are read-only: money moves
only through the escrow services (cards, holds, payments, refunds, payouts ...), which keep
the ledger balanced."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from slate.admin_base import ReadOnlyAdmin, ReadOnlyInline

from . import payouts, reconcile, stripe_gateway
from .models import (
    CandidatePayoutAccount,
    CardSetup,
    LedgerEntry,
    LedgerTransaction,
    OrphanCharge,
    Payment,
    Payout,
    PayoutDestinationChange,
    Refund,
    StripeCustomer,
    SupporterNotice,
    WebhookEvent,
)


class EntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["account", "candidate", "amount_cents"]
    readonly_fields = fields


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["key", "kind", "slate", "pledge", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key"]
    inlines = [EntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["transaction", "account", "candidate", "amount_cents"]
    list_filter = ["account"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "attempt", "purpose", "status", "amount_cents", "captured_cents",
                    "disputed", "updated_at"]  # fmt: skip
    list_filter = ["status", "purpose", "disputed"]
    search_fields = ["payment_intent_id"]


class DisbursementForm(forms.Form):
    reference = forms.CharField(
        max_length=100, help_text="The check number or wire reference the treasurer used."
    )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    """Read-only, except that the treasurer records when a recorded payout's money was sent
    (through ``payouts.record_disbursement``, never by editing the row)."""

    list_display = [
        "candidate", "slate", "amount_cents", "status", "due_at", "disbursed_at",
        "needs_attention", "last_error", "disburse_link",
    ]  # fmt: skip
    list_filter = ["status", "needs_attention", ("disbursed_at", admin.EmptyFieldListFilter)]
    actions = ["send_failed_again"]

    @admin.action(description="Send the selected failed payouts again")
    def send_failed_again(self, request, queryset):
        outcomes = []
        for payout_id in queryset.filter(status=Payout.Status.FAILED).values_list("pk", flat=True):
            try:
                payout = payouts.send_failed_payout_again(payout_id=payout_id, actor=request.user)
            except payouts.PayoutError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
            except stripe_gateway.GatewayError as error:
                outcomes.append(f"#{payout_id} still sending ({error.code}; the sweeper retries)")
                continue
            outcomes.append(f"#{payout.pk} {payout.get_status_display().lower()}")
        if not outcomes:
            self.message_user(request, "None of the selected payouts has failed.", messages.WARNING)
            return
        self.message_user(request, "Sent again: " + "; ".join(outcomes) + ".")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(
            "escrow.manage_payouts"
        )

    def get_urls(self):
        return [
            path(
                "<int:payout_id>/disburse/",
                self.admin_site.admin_view(self.disburse_view),
                name="escrow_payout_disburse",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Disbursement")
    def disburse_link(self, payout: Payout) -> str:
        if payout.status != Payout.Status.RECORDED or payout.disbursed_at is not None:
            return "—"
        url = reverse("admin:escrow_payout_disburse", args=[payout.pk])
        return format_html('<a href="{}">Record disbursement</a>', url)

    def disburse_view(self, request, payout_id: int):
        if not request.user.has_perm("escrow.manage_payouts"):
            raise PermissionDenied
        payout = get_object_or_404(
            Payout.objects.select_related("candidate", "slate"), pk=payout_id
        )
        form = DisbursementForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payouts.record_disbursement(
                    payout_id=payout.pk,
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                )
            except payouts.PayoutError as error:
                form.add_error(error.field, error.message)
            else:
                self.message_user(request, f"Recorded the disbursement of payout #{payout.pk}.")
                return redirect("admin:escrow_payout_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Record the disbursement of payout #{payout.pk}",
            "payout": payout,
            "form": form,
        }
        return TemplateResponse(request, "admin/escrow/payout/disburse.html", context)


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "status", "setup_intent_id", "created_at"]
    list_filter = ["status"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["user", "customer_id", "created_at"]


class WebhookProcessingFilter(admin.SimpleListFilter):
    """Which events still wait: failing ones (tried and refused) are what staff look into."""

    title = "processing"
    parameter_name = "processing"

    def lookups(self, request, model_admin):
        return [
            ("failing", "Failing"),
            ("waiting", "Not processed yet"),
            ("processed", "Processed"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(processed_at__isnull=True, attempts__gt=0)
        if self.value() == "waiting":
            return queryset.filter(processed_at__isnull=True)
        if self.value() == "processed":
            return queryset.filter(processed_at__isnull=False)
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at", "failing", "attempts",
                    "error"]  # fmt: skip
    list_filter = [WebhookProcessingFilter, "type"]
    search_fields = ["event_id"]

    @admin.display(boolean=True, description="Failing")
    def failing(self, event: WebhookEvent) -> bool:
        return event.processed_at is None and event.attempts > 0


class CandidatePayoutAccountForm(forms.ModelForm):
    class Meta:
        model = CandidatePayoutAccount
        fields = ["candidate", "stripe_account_id"]

    def clean_stripe_account_id(self):
        try:
            return payouts.clean_stripe_account_id(self.cleaned_data["stripe_account_id"])
        except payouts.PayoutError as error:
            raise forms.ValidationError(error.message) from error


def _may_manage_payouts(request) -> bool:
    return request.user.has_perm("escrow.manage_payouts")


@admin.register(CandidatePayoutAccount)
class CandidatePayoutAccountAdmin(admin.ModelAdmin):
    """Where a candidate's money goes. Only the treasurer (``escrow.manage_payouts``) changes
    it, and only through ``payouts.set_payout_destination``, which records every change
    (Payout destination changes)."""

    form = CandidatePayoutAccountForm
    list_display = ["candidate", "stripe_account_id"]
    actions = None  # no bulk delete: each removal goes through the service, audited

    def get_readonly_fields(self, request, obj=None):
        return ["candidate"] if obj is not None else []

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _may_manage_payouts(request)

    def has_add_permission(self, request):
        return _may_manage_payouts(request)

    def has_change_permission(self, request, obj=None):
        return _may_manage_payouts(request)

    def has_delete_permission(self, request, obj=None):
        return _may_manage_payouts(request)

    def save_model(self, request, obj, form, change):
        account = payouts.set_payout_destination(
            candidate_id=obj.candidate_id,
            stripe_account_id=obj.stripe_account_id,
            actor=request.user,
        )
        obj.pk = account.pk if account is not None else obj.pk

    def delete_model(self, request, obj):
        payouts.set_payout_destination(
            candidate_id=obj.candidate_id, stripe_account_id="", actor=request.user
        )

    def delete_queryset(self, request, queryset):
        for account in queryset:
            self.delete_model(request, account)


@admin.register(PayoutDestinationChange)
class PayoutDestinationChangeAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "previous_account_id", "account_id", "changed_by", "changed_at"]
    search_fields = ["candidate__full_name", "previous_account_id", "account_id"]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _may_manage_payouts(request)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "number", "amount_cents", "status", "last_error", "requested_by",
                    "created_at"]  # fmt: skip
    list_filter = ["status"]


@admin.register(SupporterNotice)
class SupporterNoticeAdmin(ReadOnlyAdmin):
    list_display = ["slate", "supporter", "kind", "sent_at"]
    list_filter = ["kind"]


@admin.register(OrphanCharge)
class OrphanChargeAdmin(ReadOnlyAdmin):
    """Charges Stripe made that the books do not know, found by reconciliation. Staff with
    the ``escrow.refund_orphancharge`` permission give the money back from here."""

    list_display = ["charge_id", "payment_intent_id", "amount_cents", "captured", "charged_at",
                    "found_at", "resolved_at", "resolution"]  # fmt: skip
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "captured"]
    search_fields = ["charge_id", "payment_intent_id", "customer_id"]
    actions = ["refund_at_stripe"]

    @admin.action(description="Refund the selected charges at Stripe (or let their holds go)")
    def refund_at_stripe(self, request, queryset):
        if not request.user.has_perm("escrow.refund_orphancharge"):
            self.message_user(request, "You may not refund orphan charges.", messages.ERROR)
            return
        outcomes = []
        for orphan_id in queryset.filter(resolved_at__isnull=True).values_list("pk", flat=True):
            try:
                orphan = reconcile.refund_orphan(orphan_id=orphan_id, actor=request.user)
            except stripe_gateway.GatewayError as error:
                outcomes.append(f"#{orphan_id} not refunded ({error.code}: {error.message})")
                continue
            outcomes.append(f"{orphan.charge_id}: {orphan.resolution}")
        if not outcomes:
            self.message_user(request, "The selected charges are settled.", messages.WARNING)
            return
        self.message_user(request, "; ".join(outcomes) + ".")
