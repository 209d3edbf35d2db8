from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from candidates.models import Candidate
from slate.geography import US_STATES
from slate.models import PartnerCode, PartnerOrganization, Slate

from .states import PledgeKind, PledgeState

# "Jane D." on a slate's public roll: first name and last initial, cut to this length.
PUBLIC_NAME_MAX_LENGTH = 40


class VolunteerActivity(models.TextChoices):
    CANVASSING = "canvassing", "Canvassing"
    PHONE_BANKING = "phone_banking", "Phone banking"
    TEXT_BANKING = "text_banking", "Text banking"
    HOSTING = "hosting", "Hosting events"
    DRIVING = "driving", "Driving voters"
    DATA_ENTRY = "data_entry", "Data entry"


class Pledge(models.Model):
    """A supporter's commitment to a slate: money, volunteer hours, or their name.

    ``state`` changes only through ``pledges.services.transition_pledge``.
    """

    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pledges"
    )
    slate = models.ForeignKey(Slate, on_delete=models.PROTECT, related_name="pledges")
    kind = models.CharField(max_length=16, choices=PledgeKind.choices)
    state = models.CharField(max_length=16, choices=PledgeState.choices, db_index=True)

    # Money
    amount_cents = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    captured_cents = models.PositiveBigIntegerField(default=0, editable=False)
    refunded_cents = models.PositiveBigIntegerField(default=0, editable=False)

    # Volunteer
    hours = models.PositiveIntegerField(default=0)
    activities = models.JSONField(default=list, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    availability = models.CharField(max_length=200, blank=True)

    supporter_state = models.CharField(
        "supporter's state", max_length=2, choices=US_STATES, blank=True
    )

    # Conditions the supporter attached: the money moves only if they hold at the lock.
    condition_min_signatures = models.PositiveSmallIntegerField(null=True, blank=True)
    condition_required_candidates = models.ManyToManyField(Candidate, blank=True, related_name="+")

    referred_by = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_pledges",
    )
    # The organization's sub-code (chapter, mailing, event) whose link brought the pledge; only
    # ever one of ``referred_by``'s own codes.
    partner_code = models.ForeignKey(
        PartnerCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True)
    # "Jane D." on the slate's public roll; empty unless the supporter opted in to be listed.
    public_name = models.CharField(max_length=PUBLIC_NAME_MAX_LENGTH, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["slate", "state"], name="pledge_slate_state")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=PledgeKind.MONEY) | Q(amount_cents__gt=0),
                name="pledge_money_has_amount",
            ),
            models.CheckConstraint(
                condition=~Q(kind=PledgeKind.VOLUNTEER) | Q(hours__gt=0),
                name="pledge_volunteer_has_hours",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("captured_cents")),
                name="pledge_refund_within_capture",
            ),
            models.UniqueConstraint(
                fields=["slate", "supporter"],
                condition=Q(kind=PledgeKind.SIGNON, state=PledgeState.COMMITTED),
                name="pledge_one_live_signon",
            ),
            models.UniqueConstraint(
                fields=["supporter", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="pledge_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} pledge #{self.pk} to {self.slate}"


class PledgeAllocation(models.Model):
    """The supporter's split of a money pledge among candidates, in basis points (sum 10000)."""

    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="allocations")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+")
    weight_bps = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pledge", "candidate"], name="allocation_unique"),
            models.CheckConstraint(
                condition=Q(weight_bps__gt=0, weight_bps__lte=10_000), name="allocation_bps_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weight_bps / 100:.2f}% of #{self.pledge_id} to {self.candidate}"


class PledgeEvent(models.Model):
    """The history of a pledge: one row per state change, including its creation."""

    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, choices=PledgeState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=PledgeState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.pledge_id}: {self.from_state or '∅'} → {self.to_state}"


class SlateSupporter(models.Model):
    """How many live pledges one supporter has on one slate; keeps the supporter count exact."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="+")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    live_pledge_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "supporter"], name="slate_supporter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.supporter} on {self.slate}: {self.live_pledge_count} live"


class PledgeNotice(models.Model):
    """The outbox of supporter emails about one pledge (``pledges.notifications``): written in
    the transaction that changes the pledge, settled by the task that sends the email (or
    finds it no longer true), re-sent by a beat sweeper if its task was lost. Unique per pledge,
    kind and key, so a supporter hears each piece of news at most once. Slate-wide news (a
    vote record) is written on one pledge per supporter, so each person hears it once."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", "Pledge confirmed"
        CANCELLED = "cancelled", "Pledge cancelled"
        VOIDED = "voided", "Pledge voided"
        FAILED = "failed", "Payment failed after the grace period"
        VOTE_RECORD = "vote_record", "A vote of the slate's signers recorded"

    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What the news is about when a kind recurs (the vote record's id); "" for the pledge's own.
    key = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the email went out, or when it was dropped (no longer true, or the demo seed).
    settled_at = models.DateTimeField(null=True, blank=True)
    sent = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pledge", "kind", "key"], name="pledge_notice_once_per_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(settled_at__isnull=True),
                name="pledge_notice_unsettled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice for pledge {self.pledge_id}"


class SignOnRequest(models.Model):
    """A sign-on by name, email and ZIP from someone without a password: it becomes a sign-on
    pledge when the link emailed to that address is followed (``pledges.signons``). One per
    slate and address, so signing on again is the same sign-on."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="sign_on_requests")
    email = models.EmailField()  # lower-cased
    name = models.CharField(max_length=100)
    zip_code = models.CharField("ZIP code", max_length=10)
    supporter_state = models.CharField(max_length=2, choices=US_STATES)
    on_public_roll = models.BooleanField(default=False)
    referred_by = models.ForeignKey(
        PartnerOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    partner_code = models.ForeignKey(
        PartnerCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The personal share code (``ReferralCode``) of the supporter whose link brought them.
    referrer_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the confirmation link was last emailed: a repeat within a few minutes sends none.
    link_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    pledge = models.OneToOneField(
        Pledge, null=True, blank=True, on_delete=models.SET_NULL, related_name="sign_on_request"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "email"], name="sign_on_request_once"),
        ]

    def __str__(self) -> str:
        return f"sign-on request #{self.pk} to {self.slate_id}"


class ReferralCode(models.Model):
    """A supporter's personal share code: ``/slates/<slug>/?ref=<code>`` credits them."""

    supporter = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """Who brought whom to a slate. One per supporter and slate, the first link they came by,
    so a person is counted once however many pledges they make or links they follow, and a
    chain (A brought B, B brought C) credits each link to its own referrer only."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="+")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referred_to"
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrals_made"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "supporter"], name="referral_once"),
            models.CheckConstraint(
                condition=~Q(supporter=models.F("referrer")), name="referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} brought {self.supporter_id} to {self.slate_id}"


class PartnerShare(models.Model):
    """The supporter agreed that this partner organization, whose link brought one of their
    pledges, may learn they pledged (``organizing`` lists them for its admins, so the
    organization stops asking them). Only where such a pledge exists; withdrawn by deleting."""

    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_shares"
    )
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="member_shares"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["supporter", "organization"], name="partner_share_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supporter_id} shares with {self.organization_id}"
