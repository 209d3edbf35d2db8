"""Staff views of money. The ledger, payments and webhook events are read-only: money moves
only through escrow.services, which keep the ledger balanced."""

from django.contrib import admin

from slate.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CandidatePayoutAccount,
    CardSetup,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
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


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "slate", "amount_cents", "status", "due_at", "needs_attention"]
    list_filter = ["status", "needs_attention"]


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ["pledge", "status", "setup_intent_id", "created_at"]
    list_filter = ["status"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["user", "customer_id", "created_at"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(CandidatePayoutAccount)
class CandidatePayoutAccountAdmin(admin.ModelAdmin):
    list_display = ["candidate", "stripe_account_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "number", "amount_cents", "status", "requested_by", "created_at"]
    list_filter = ["status"]


@admin.register(SupporterNotice)
class SupporterNoticeAdmin(ReadOnlyAdmin):
    list_display = ["slate", "supporter", "kind", "sent_at"]
    list_filter = ["kind"]
