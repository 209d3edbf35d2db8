"""Money: Stripe customers and card setups, payments (authorization holds and charges),
payouts, the double-entry ledger, and received webhook events.

Every change of a Payment's status happens in the escrow services (``payments``, ``holds``)
inside a transaction that holds the payment's row lock; Stripe is called between two such
transactions, with the intent recorded first (``capturing``, ``canceling``) so a crash leaves
a row the sweeper can finish by asking Stripe what happened.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from candidates.models import Candidate
from pledges.models import Pledge
from slate.models import Slate

from .states import (
    PAYMENT_IN_FLIGHT,
    PAYMENT_OPEN,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
)


class StripeCustomer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_customer"
    )
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} = {self.customer_id}"


class CardSetup(models.Model):
    """The SetupIntent that saves a supporter's card for one money pledge."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the card"
        SUCCEEDED = "succeeded", "Card saved"
        FAILED = "failed", "Failed"

    # Usually one per pledge; a supporter whose card was declined at release saves another.
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="card_setups")
    customer = models.ForeignKey(StripeCustomer, on_delete=models.PROTECT)
    setup_intent_id = models.CharField(max_length=255, unique=True)
    client_secret = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payment_method_id = models.CharField(max_length=255, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    forgotten_at = models.DateTimeField(
        null=True, blank=True, help_text="When the card was detached from the Stripe customer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.setup_intent_id} ({self.status})"


class Payment(models.Model):
    """One Stripe PaymentIntent we created for a pledge: a manual-capture hold, or an
    automatic off-session charge where no hold exists at release."""

    class Purpose(models.TextChoices):
        HOLD = "hold", "Authorization hold"
        CHARGE = "charge", "Off-session charge"

    # The statuses, their table of moves and their groups: ``escrow.states``.
    Status = PaymentStatus
    IN_FLIGHT = PAYMENT_IN_FLIGHT
    OPEN = PAYMENT_OPEN

    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="payments")
    card_setup = models.ForeignKey(
        CardSetup, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveSmallIntegerField()
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATING)
    amount_cents = models.PositiveBigIntegerField()
    captured_cents = models.PositiveBigIntegerField(default=0)
    refunded_cents = models.PositiveBigIntegerField(default=0)
    # What the capture asks for, fixed when it is first sent (a retry must ask for the same):
    # less than the hold where the donor's contribution limits cap the pledge.
    capture_cents = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="usd")
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # Why a cancel was sent, so whoever records its result (the caller, the webhook or the
    # sweeper after a crash) moves the pledge where the canceller meant it to go.
    cancel_purpose = models.CharField(max_length=16, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)  # for the pledge's history
    disputed = models.BooleanField(default=False)
    # The charge's dispute (a charge has at most one), from Stripe's webhooks: while it is open
    # or after it is lost, Stripe holds ``disputed_cents`` back (the ``disputes`` account).
    dispute_id = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(max_length=32, blank=True)
    disputed_cents = models.PositiveBigIntegerField(default=0)
    # Stripe's processing fee on the charge, booked to ``stripe_fees`` once Stripe reports it
    # (null until then). The platform bears it: candidates receive the whole captured amount.
    fee_cents = models.PositiveBigIntegerField(null=True, blank=True)
    # When Stripe was found to have taken money for this payment after we had given it up or
    # its pledge had ended (a late 3-D Secure, a create that landed after a cancel): such money
    # is refunded in full at once, owed back to the supporter until then.
    unwanted_at = models.DateTimeField(null=True, blank=True)
    # The supporter is told when the card needs them, then reminded every 48 hours.
    supporter_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pledge", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "attempt"], name="payment_attempt_unique"),
            # At most one open payment per pledge: a second hold can never be placed beside one.
            models.UniqueConstraint(
                fields=["pledge"],
                condition=Q(status__in=list(PAYMENT_OPEN)),
                name="payment_one_open_per_pledge",
            ),
            models.CheckConstraint(
                condition=Q(captured_cents__lte=models.F("amount_cents"))
                & Q(refunded_cents__lte=models.F("captured_cents")),
                name="payment_amounts_consistent",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="payment_status_updated")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} #{self.attempt} for pledge {self.pledge_id}"

    def idempotency_key(self, step: str) -> str:
        """Our ids and the step: a retry of the same step reuses the key."""
        return f"pledge-{self.pledge_id}-payment-{self.attempt}-{step}"


class Payout(models.Model):
    """Money owed to one candidate from one slate's release, and its transfer."""

    Status = PayoutStatus  # its table of moves and groups: ``escrow.states``

    slate = models.ForeignKey(Slate, on_delete=models.PROTECT, related_name="payouts")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="payouts")
    # Fixed when the payout is sent (never more than is owed then); a retry sends the same.
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(help_text="Conduit rule: forward within 10 days of capture.")
    transfer_id = models.CharField(max_length=255, blank=True)
    destination_account_id = models.CharField(max_length=255, blank=True)
    # A transfer Stripe refused for good fails the payout; staff send it again as a new
    # attempt (a new idempotency key, else Stripe would repeat the refusal).
    attempt = models.PositiveSmallIntegerField(default=1)
    last_error = models.CharField(max_length=500, blank=True)
    needs_attention = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When this attempt's transfer was first sent: the sweeper resends one stuck in
    # "sending" only once this is old (a payout created long ago may be sending right now).
    sending_started_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    candidate_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the candidate was emailed that it was sent."
    )
    # When the money actually left for the candidate: the transfer itself for a Stripe Connect
    # payout, the treasurer's check or wire for a recorded one (the conduit's 10-day clock).
    disbursed_at = models.DateTimeField(null=True, blank=True)
    disbursement_reference = models.CharField(
        max_length=100, blank=True, help_text="Transfer id, check number or wire reference."
    )
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        permissions = [("manage_payouts", "Can record disbursements and send failed payouts again")]

    def __str__(self) -> str:
        return f"Payout #{self.pk} to {self.candidate}"


class LedgerAccount(models.TextChoices):
    SUPPORTER_HOLDS = "supporter_holds", "Supporter holds (authorized on cards)"
    HOLDS_OUTSTANDING = "holds_outstanding", "Holds outstanding (contra)"
    PLATFORM_CLEARING = "platform_clearing", "Platform clearing (received)"
    CANDIDATE_PAYABLE = "candidate_payable", "Candidate payable"
    CANDIDATE_PAID = "candidate_paid", "Candidate paid"
    REFUNDS = "refunds", "Refunds"
    STRIPE_FEES = "stripe_fees", "Stripe fees"
    DISPUTES = "disputes", "Disputes (withdrawn by Stripe)"
    SUPPORTER_REFUNDS_DUE = "supporter_refunds_due", "Owed back to supporters (unwanted payments)"


class LedgerTransaction(models.Model):
    """A balanced group of entries. ``key`` is unique, so posting a step twice is impossible."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=32)
    slate = models.ForeignKey(Slate, on_delete=models.PROTECT, related_name="+")
    pledge = models.ForeignKey(
        Pledge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.key


class LedgerEntry(models.Model):
    """Debits positive, credits negative; every transaction's entries sum to zero."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.CharField(max_length=32, choices=LedgerAccount.choices)
    candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slate = models.ForeignKey(Slate, on_delete=models.PROTECT, related_name="+")
    pledge = models.ForeignKey(
        Pledge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_cents = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["account", "candidate"], name="ledger_account_candidate"),
            models.Index(fields=["pledge"], name="ledger_pledge"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="ledger_entry_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_cents:+d}"


class WebhookEvent(models.Model):
    """Every Stripe event received, stored by its id before processing: replays are no-ops."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The last processing error, kept until a later attempt succeeds; each attempt is counted
    # in its own transaction, so an error is never rolled back with the work it interrupted.
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When staff were told that this event keeps failing (once).
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="webhook_unprocessed_idx",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class CandidatePayoutAccount(models.Model):
    """Where a candidate's money goes: a Stripe Connect account, when they have one."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, related_name="payout_account"
    )
    stripe_account_id = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.candidate}: {self.stripe_account_id}"


class PayoutDestinationChange(models.Model):
    """Audit: every change of where a candidate's payouts go, who made it and when (written
    only by ``payouts.set_payout_destination``)."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+")
    previous_account_id = models.CharField(max_length=255, blank=True)
    # Empty: no Connect account any more, the candidate is paid through the treasurer.
    account_id = models.CharField(max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.candidate}: {self.previous_account_id or 'treasurer'} -> "
            f"{self.account_id or 'treasurer'}"
        )


class Refund(models.Model):
    """Money given back to a supporter from a captured payment, all or part of it."""

    Status = RefundStatus  # its table of moves and groups: ``escrow.states``

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    number = models.PositiveSmallIntegerField()
    amount_cents = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATING)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=500)
    # Why Stripe refused it for good (its error code and message, or the status it answered).
    last_error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # An automatic refund of an unwanted payment: when its supporter was told.
    supporter_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["payment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "number"], name="refund_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.number} of {self.payment}"

    def idempotency_key(self) -> str:
        return self.payment.idempotency_key(f"refund-{self.number}")


class SupporterNotice(models.Model):
    """One email per supporter per slate per kind of news, so a retried task never repeats it."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="+")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "supporter", "kind"], name="notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice to {self.supporter} about {self.slate}"


class OrphanCharge(models.Model):
    """A charge Stripe made that no payment of ours knows: money taken (or held) with nothing
    on the books, found by reconciliation walking Stripe's side (a create adopted by nobody,
    a charge made in the Stripe dashboard). Staff refund it (``reconcile.refund_orphan``)."""

    charge_id = models.CharField(max_length=255, unique=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    customer_id = models.CharField(max_length=255, blank=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    captured = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    charged_at = models.DateTimeField()
    found_at = models.DateTimeField(auto_now_add=True)
    # Set once the money went back (a refund) or the hold was let go (a cancel).
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=255, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-charged_at"]
        permissions = [("refund_orphancharge", "Can refund charges the books do not know")]

    def __str__(self) -> str:
        return f"Orphan charge {self.charge_id}"
