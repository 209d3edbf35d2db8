"""Contribution rules as data, donors, what a supporter declared with each money pledge, and
the records the law (or trust) asks us to keep.

A contribution is made when the platform receives it: the capture. Amounts per donor and
candidate are therefore read from the escrow ledger (``compliance.contributions``), never
from pledges; nothing here duplicates money.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from candidates.models import Candidate
from pledges.models import Pledge
from slate.geography import US_STATES
from slate.models import Slate


class ElectionKind(models.TextChoices):
    PRIMARY = "primary", "Primary"
    GENERAL = "general", "General"


class ElectionCycle(models.Model):
    """A two-year federal election cycle, e.g. 2025–2026. Editable by staff."""

    name = models.CharField(max_length=32, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    itemization_threshold_cents = models.PositiveBigIntegerField(
        default=20_000,
        help_text="A donor's aggregate to one candidate above this, in cents per cycle, is "
        "itemized and needs name, address, employer and occupation.",
    )

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="cycle_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Election(models.Model):
    """When an election is held. A contribution counts toward the next election of the
    candidate's state on or after its capture date; after the last one, toward the last.
    A row with no state applies to every state without its own row of that kind."""

    cycle = models.ForeignKey(ElectionCycle, on_delete=models.CASCADE, related_name="elections")
    kind = models.CharField(max_length=8, choices=ElectionKind.choices)
    state = models.CharField(max_length=2, choices=US_STATES, blank=True)
    held_on = models.DateField()

    class Meta:
        ordering = ["cycle", "held_on", "state"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "state"], name="election_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on:%Y-%m-%d} {self.state or 'all states'}"

    @property
    def fec_code(self) -> str:
        """FEC election code: P2026, G2026."""
        return f"{self.kind[0].upper()}{self.held_on.year}"


class ContributionLimit(models.Model):
    """The most one donor may give one candidate for one election, by office (and state,
    where a state race has its own rule; a row with no state applies to every state)."""

    cycle = models.ForeignKey(ElectionCycle, on_delete=models.CASCADE, related_name="limits")
    office = models.CharField(max_length=32, choices=Candidate.Office.choices)
    election_kind = models.CharField(max_length=8, choices=ElectionKind.choices)
    state = models.CharField(max_length=2, choices=US_STATES, blank=True)
    limit_cents = models.PositiveBigIntegerField(
        help_text="Per donor, per candidate, per election, in cents."
    )

    class Meta:
        ordering = ["cycle", "office", "election_kind", "state"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "office", "election_kind", "state"], name="limit_unique"
            ),
        ]

    def __str__(self) -> str:
        where = f" in {self.state}" if self.state else ""
        return (
            f"{self.cycle} {self.get_office_display()}{where} {self.election_kind}: "
            f"${self.limit_cents / 100:,.2f}"
        )


def normalize(value: str) -> str:
    return " ".join("".join(ch for ch in value.lower() if ch.isalnum() or ch.isspace()).split())


class Donor(models.Model):
    """The person behind a supporter account, for aggregation and reports.

    Identity is the normalized name + address + email (``identity_key``); donors that are
    the same person under two accounts are merged by staff (``merged_into`` points at the
    surviving donor, always a root). Contributions of a donor and every donor merged into
    it are added up together.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="donor"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    street_1 = models.CharField("street address", max_length=200, blank=True)
    street_2 = models.CharField("apartment, suite", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=US_STATES, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    employer = models.CharField(max_length=200, blank=True)
    occupation = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    identity_key = models.CharField(max_length=64, db_index=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_donors"
    )
    # Deletion on request: personal data wiped, except what the law requires us to keep.
    anonymized_at = models.DateTimeField(null=True, blank=True)
    retained_for_law = models.BooleanField(
        default=False,
        help_text="Kept after a deletion request: contributor records a conduit must keep.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    REQUIRED_FOR_ITEMIZATION = (
        "first_name", "last_name", "street_1", "city", "state", "zip_code", "employer",
        "occupation",
    )  # fmt: skip

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Donor #{self.pk}"

    def save(self, *args, **kwargs):
        self.identity_key = self.compute_identity_key()
        if self.merged_into_id == self.pk and self.pk is not None:
            raise ValidationError("A donor cannot be merged into itself.")
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def root_id(self) -> int:
        return self.merged_into_id or self.pk

    def compute_identity_key(self) -> str:
        parts = [
            normalize(self.first_name), normalize(self.last_name), normalize(self.street_1),
            normalize(self.street_2), normalize(self.city), self.state.upper(),
            self.zip_code[:5], self.email.strip().lower(),
        ]  # fmt: skip
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def missing_for_itemization(self) -> list[str]:
        return [name for name in self.REQUIRED_FOR_ITEMIZATION if not getattr(self, name).strip()]


class PledgeDeclaration(models.Model):
    """What the supporter attested, consented to and was shown when pledging money.

    Written once with the pledge, in the same transaction, and never changed: a changed
    slate rule needs the donor's renewed consent (a new pledge), not an edited record.
    """

    pledge = models.OneToOneField(Pledge, on_delete=models.PROTECT, related_name="declaration")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="declarations")
    citizen_or_permanent_resident = models.BooleanField()
    at_least_18 = models.BooleanField()
    own_funds_not_reimbursed = models.BooleanField()
    not_federal_contractor = models.BooleanField()
    personal_card = models.BooleanField()
    attestation_text = models.TextField(help_text="The statements exactly as shown.")
    disclosed_conditions = models.TextField(help_text="The conditions exactly as shown.")
    disclosed_conditions_sha256 = models.CharField(max_length=64)
    allow_reallocation = models.BooleanField(
        default=False,
        help_text="Money over a candidate's limit may go to the other signed candidates "
        "(otherwise it is not charged).",
    )
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    citizen_or_permanent_resident=True,
                    at_least_18=True,
                    own_funds_not_reimbursed=True,
                    not_federal_contractor=True,
                    personal_card=True,
                ),
                name="declaration_all_attested",
            ),
        ]

    def __str__(self) -> str:
        return f"Declaration for pledge #{self.pledge_id}"

    def save(self, *args, **kwargs):
        # A second declaration for the same pledge is refused by the one-to-one's unique index.
        if self.pk is not None:
            raise ValidationError("A pledge's declaration cannot be changed.")
        self.disclosed_conditions_sha256 = hashlib.sha256(
            self.disclosed_conditions.encode()
        ).hexdigest()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A pledge's declaration cannot be deleted.")


class CaptureDecision(models.Model):
    """What compliance allowed a pledge's capture to take, per candidate, recorded under the
    donor's lock (``compliance.services.decide_capture``) so that captures of one donor's
    pledges running at the same time each see what the others will take."""

    pledge = models.OneToOneField(Pledge, on_delete=models.CASCADE, related_name="+")
    donor_root = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    capturable = models.JSONField(help_text="candidate id -> cents")
    uncaptured_cents = models.PositiveBigIntegerField(default=0)
    reasons = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"Capture decision for pledge #{self.pledge_id}"


class Treasurer(models.Model):
    """A user who keeps a candidate committee's books: may download its contribution report."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="treasurers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="treasurer_of"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["candidate", "user"], name="treasurer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} treasurer of {self.candidate}"


class DonorDataAccess(models.Model):
    """Audit log: every time staff, an organizer or a treasurer sees donors' details."""

    class What(models.TextChoices):
        EXPORT = "export", "Contribution report downloaded"
        ADMIN_VIEW = "admin_view", "Donor record opened in admin"
        ADMIN_LIST = "admin_list", "Donor list viewed in admin"
        COMMAND = "command", "Contribution report exported by command"
        PLEDGES_CSV = "pledges_csv", "Slate's pledge list downloaded"
        VOLUNTEERS_CSV = "volunteers_csv", "Slate's volunteer list downloaded"
        API_PLEDGES = "api_pledges", "Slate's pledges read through the API"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    what = models.CharField(max_length=16, choices=What.choices)
    donor = models.ForeignKey(Donor, null=True, blank=True, on_delete=models.SET_NULL)
    candidate = models.ForeignKey(Candidate, null=True, blank=True, on_delete=models.SET_NULL)
    slate = models.ForeignKey(Slate, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "donor data accesses"

    def __str__(self) -> str:
        return f"{self.actor}: {self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"


class DonorInfoRequest(models.Model):
    """The one "best efforts" follow-up asking an itemized donor for missing details."""

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="info_requests")
    cycle = models.ForeignKey(ElectionCycle, on_delete=models.CASCADE, related_name="+")
    missing = models.JSONField(default=list)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["donor", "cycle"], name="info_request_once"),
        ]

    def __str__(self) -> str:
        return f"Details asked of {self.donor} ({self.cycle})"


class ReceiptNotice(models.Model):
    """One receipt email per capture or refund (a ledger transaction), never two."""

    ledger_transaction_id = models.PositiveBigIntegerField(unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Receipt for ledger transaction {self.ledger_transaction_id}"


class DeletionRequest(models.Model):
    """A supporter asked for their personal data to be deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deletion_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    kept = models.TextField(blank=True, help_text="What was kept because the law requires it.")

    def __str__(self) -> str:
        return f"Deletion request of user {self.user_id}"
