from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .states import SlateState


class Slate(models.Model):
    """A set of candidates and planks whose pot unlocks only when the threshold rule holds.

    The ``signed_candidate_count``, ``invited_candidate_count``, ``required_unsigned_count``
    and ``agreement_version_number`` fields are facts the candidates app maintains (under
    this row's lock) so that the threshold rule can be evaluated here without reaching up
    into the candidates app.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    mission = models.TextField("mission statement")
    deadline = models.DateTimeField(help_text="The pot unlocks only if the rule holds before this.")
    state = models.CharField(
        max_length=16, choices=SlateState.choices, default=SlateState.DRAFT, db_index=True
    )
    threshold_min_signatures = models.PositiveSmallIntegerField(
        "minimum signed candidates",
        validators=[MinValueValidator(1)],
        help_text="K in 'at least K of the invited candidates sign'.",
    )
    threshold_min_money_cents = models.PositiveBigIntegerField(
        "minimum money pledged (cents)", default=0
    )
    threshold_min_volunteer_hours = models.PositiveIntegerField(
        "minimum volunteer hours pledged", default=0
    )
    organizers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SlateOrganizer", related_name="organized_slates"
    )
    # Facts maintained by candidates.services; see the class docstring.
    signed_candidate_count = models.PositiveIntegerField(default=0, editable=False)
    invited_candidate_count = models.PositiveIntegerField(default=0, editable=False)
    required_unsigned_count = models.PositiveIntegerField(default=0, editable=False)
    agreement_version_number = models.PositiveIntegerField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold_min_signatures__gte=1),
                name="slate_threshold_min_signatures_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("slate:detail", kwargs={"slug": self.slug})

    def accepts_commitments(self, now=None) -> bool:
        """Pledges and signatures are taken only while open and before the deadline."""
        return self.state == SlateState.OPEN and self.deadline > (now or timezone.now())


class Plank(models.Model):
    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="planks")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["slate", "position"]
        constraints = [
            models.UniqueConstraint(fields=["slate", "position"], name="plank_unique_position"),
        ]

    def __str__(self) -> str:
        return self.title


class SlateOrganizer(models.Model):
    slate = models.ForeignKey(Slate, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "user"], name="slate_organizer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} organizes {self.slate}"


class OrganizerInvitation(models.Model):
    """An organizer asked someone, by email, to organize the slate with them. The emailed
    link adds whoever follows it while logged in with that address (``services``)."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="organizer_invitations")
    email = models.EmailField()  # lower-cased
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slate", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="organizer_invitation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to organize {self.slate}"


class SlateTransition(models.Model):
    """Every lifecycle change, and the outbox for the event it announces.

    ``dispatched_at`` stays empty until the event (``slate_locked`` and friends) has been sent;
    the sweeper re-sends any left empty by a crash between commit and dispatch.
    """

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=SlateState.choices)
    to_state = models.CharField(max_length=16, choices=SlateState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="slate_transition_undispatched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slate}: {self.from_state} → {self.to_state}"


class DeadlineExtension(models.Model):
    """Every move of an open slate's deadline, and the outbox for the notice to supporters.

    ``dispatched_at`` stays empty until ``slate_deadline_extended`` has been sent; the sweeper
    re-sends any that a crash left behind (receivers are idempotent). ``told_at`` is set once
    every supporter was emailed (``organizing.notices``); until then the milestone sweeper
    finishes the fan-out a failed task left (each supporter's email is send-once).
    """

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="deadline_extensions")
    previous_deadline = models.DateTimeField()
    new_deadline = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.slate}: deadline moved to {self.new_deadline:%Y-%m-%d}"


class PartnerOrganization(models.Model):
    class Kind(models.TextChoices):
        UNION = "union", "Union"
        CIVIC = "civic", "Civic group"
        RELIGIOUS = "religious", "Religious group"
        ADVOCACY = "advocacy", "Advocacy group"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    website = models.URLField(blank=True)
    verified = models.BooleanField(default=False)
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_organizations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerCode(models.Model):
    """A partner organization's sub-code for one chapter, mailing or event: its links
    (``/r/<organization>/<slate>/<code>/``) credit the organization as usual, and the pledges
    they bring are counted per code too (the 'code' breakdown), for the organization's
    dashboard and CSV."""

    class Kind(models.TextChoices):
        CHAPTER = "chapter", "Chapter"
        MAILING = "mailing", "Mailing"
        EVENT = "event", "Event"
        OTHER = "other", "Other"

    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="codes"
    )
    code = models.SlugField(max_length=32)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="partner_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.label} ({self.code})"


class PartnerLogo(models.Model):
    """An organization's logo, re-encoded as a small PNG on upload (``services``) and served
    from Slate's own address, so the pages' image policy stays 'self'."""

    organization = models.OneToOneField(
        PartnerOrganization, on_delete=models.CASCADE, related_name="logo"
    )
    png = models.BinaryField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"logo of {self.organization}"


class Endorsement(models.Model):
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="endorsements"
    )
    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="endorsements")
    statement = models.TextField(blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    endorsed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slate"], name="endorsement_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} endorses {self.slate}"


class SlateCounterShard(models.Model):
    """One of ``SLATE_COUNTER_SHARDS`` rows per slate; the slate's totals are their sum.

    Concurrent pledges each add to a random shard, so they do not queue on one hot row.
    A single shard may go negative (a pledge counted on shard 2 cancelled on shard 5);
    only the sum means anything.
    """

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="counter_shards")
    shard = models.PositiveSmallIntegerField()
    money_pledged_cents = models.BigIntegerField(default=0)
    money_pledge_count = models.BigIntegerField(default=0)
    money_authorized_cents = models.BigIntegerField(default=0)
    money_captured_cents = models.BigIntegerField(default=0)
    volunteer_hours = models.BigIntegerField(default=0)
    volunteer_pledge_count = models.BigIntegerField(default=0)
    signon_count = models.BigIntegerField(default=0)
    supporter_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slate", "shard"], name="counter_shard_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.slate} counters #{self.shard}"


class SlateBreakdownShard(models.Model):
    """Sharded counters for one slice of a slate: a US state, a partner org, or a day."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="breakdown_shards")
    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=64)
    shard = models.PositiveSmallIntegerField()
    money_cents = models.BigIntegerField(default=0)
    volunteer_hours = models.BigIntegerField(default=0)
    pledge_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slate", "dimension", "key", "shard"], name="breakdown_shard_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slate} {self.dimension}={self.key} #{self.shard}"


# --- Email (``slate.mail``) ------------------------------------------------------------------


class EmailCategory(models.TextChoices):
    """What an email is, for the recipient's preferences. Transactional mail (receipts, "your
    payment needs you", "nothing was charged", sign-in links) ignores the preferences."""

    TRANSACTIONAL = "transactional", "About your money, pledge or account"
    MILESTONES = "milestones", "Milestones (a candidate signed, the slate locked, released)"
    ORGANIZER_UPDATES = "organizer_updates", "Updates from the slate's organizers"
    VOLUNTEER_REMINDERS = "volunteer_reminders", "Volunteer shift reminders"
    CANDIDATE_NEWS = "candidate_news", "News for candidates (weekly digest, one signature away)"


class OutboundEmail(models.Model):
    """Every email Slate sends, and the send-once outbox: a row with a ``key`` is sent at most
    once (the unique key; the sender locks the row while sending and settles it in the same
    transaction). ``status`` says what became of it."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        UNSUBSCRIBED = "unsubscribed", "Not sent: the recipient turned this kind off"
        SUPPRESSED = "suppressed", "Not sent: the address is suppressed"
        DROPPED = "dropped", "Not sent: no longer true"

    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    to = models.EmailField(max_length=254, db_index=True)
    slate = models.ForeignKey(
        Slate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.CharField(max_length=24, choices=EmailCategory.choices)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The mail provider's id of the message, when its backend reports one (anymail).
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    # When the provider first reported it opened (its tracking webhook): only for the
    # candidates' emails, and only where open tracking is on (SLATE_EMAIL_TRACK_OPENS).
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject or self.key} to {self.to}"


class EmailOptOut(models.Model):
    """An address that turned a kind of email off, for one slate or (``slate`` empty) all."""

    address = models.EmailField(max_length=254)
    slate = models.ForeignKey(
        Slate, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(max_length=24, choices=EmailCategory.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "slate", "category"],
                condition=models.Q(slate__isnull=False),
                name="email_opt_out_slate_once",
            ),
            models.UniqueConstraint(
                fields=["address", "category"],
                condition=models.Q(slate__isnull=True),
                name="email_opt_out_global_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(category="transactional"),
                name="email_opt_out_not_transactional",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address}: no {self.category} ({self.slate or 'all slates'})"


class EmailSuppression(models.Model):
    """An address nothing is sent to: it bounced, its owner complained (marked us as spam), or
    staff suppressed it. Reported by the mail provider's webhook (``slate.mail_events``)."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained (marked as spam)"
        REJECTED = "rejected", "Rejected by the provider"
        MANUAL = "manual", "Suppressed by staff"

    address = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


class MailgunWebhookToken(models.Model):
    """A signed Mailgun webhook call's token, seen once: a second call carrying it is a replay
    (``slate.mail_events``). Kept until its signature is too old to be accepted anyway
    (``expires_at``), so the table holds one window's calls; rows past it are deleted as new
    ones arrive. A row, not a cache key: it is written in the transaction that acts on the
    event (a failed one leaves no token, so the provider's retry is taken) and survives a
    restart or a flushed cache."""

    # The token's SHA-256 (hex): a fixed width whatever length Mailgun's tokens grow to.
    token_sha256 = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.token_sha256


class MilestoneNews(models.Model):
    """One piece of milestone news about a slate, told to each supporter once (the fan-out
    sends through ``slate.mail`` with a key per supporter). Unique per (slate, kind, period):
    the "signed" news is batched per day (``period`` is the date; ``names`` the candidates it
    announces), the others happen once per slate."""

    class Kind(models.TextChoices):
        SIGNED = "signed", "Candidates signed"
        ONE_TO_GO = "one_to_go", "One signature to go"
        LOCKED = "locked", "The slate locked"
        RELEASED = "released", "Released: what the money and hours did"

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="milestone_news")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.CharField(max_length=16, blank=True)
    names = models.JSONField(default=list, blank=True)
    # The "signed" news covers signatures made up to this moment.
    covers_until = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slate", "kind", "period"], name="milestone_news_once"),
        ]

    def __str__(self) -> str:
        return f"{self.slate}: {self.get_kind_display()} {self.period}".strip()
