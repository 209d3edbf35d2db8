"""Volunteer power: what a volunteer offers beyond the pledge, where they are matched at the
lock, the campaigns' events and shifts, sign-ups with a waitlist, reminders and delivered time.

Hours pledged live on ``pledges.Pledge`` (kind volunteer), which keeps the slate's totals;
everything here hangs off that pledge. Time actually scheduled or delivered is kept in whole
minutes (a shift may last ninety of them), like money in cents.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from candidates.models import Candidate
from pledges.models import Pledge, VolunteerActivity
from slate.models import PartnerOrganization, Slate


class WorkMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    REMOTE = "remote", "Remote"
    EITHER = "either", "In person or remote"


class Weekday(models.TextChoices):
    MON = "mon", "Monday"
    TUE = "tue", "Tuesday"
    WED = "wed", "Wednesday"
    THU = "thu", "Thursday"
    FRI = "fri", "Friday"
    SAT = "sat", "Saturday"
    SUN = "sun", "Sunday"


class DayPart(models.TextChoices):
    MORNING = "morning", "mornings"
    AFTERNOON = "afternoon", "afternoons"
    EVENING = "evening", "evenings"


WEEKLY_SLOT_CHOICES = [
    (f"{day}_{part}", f"{day_label} {part_label}")
    for day, day_label in Weekday.choices
    for part, part_label in DayPart.choices
]


class VolunteerDetails(models.Model):
    """What a volunteer pledge offers beyond hours and ZIP: how, when, in which languages, and
    whether the campaign they are matched to may see how to reach them.

    A pledge made without these (through the API, say) is treated as "either", no consent."""

    pledge = models.OneToOneField(
        Pledge, on_delete=models.CASCADE, related_name="volunteer_details", primary_key=True
    )
    mode = models.CharField(max_length=16, choices=WorkMode.choices, default=WorkMode.EITHER)
    weekly_slots = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    share_contact = models.BooleanField(
        "share my contact details with the campaign I am matched to", default=False
    )
    display_name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "volunteer details"

    def __str__(self) -> str:
        return f"Details of pledge #{self.pledge_id}"


class CampaignStaff(models.Model):
    """A member of a candidate's campaign who may run its volunteer events."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_roles"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "campaign staff"
        constraints = [
            models.UniqueConstraint(fields=["candidate", "user"], name="campaign_staff_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} works for {self.candidate}"


class StaffInvitation(models.Model):
    """A candidate asked someone who had no account, by email, to join their campaign staff.
    The emailed link lets them sign up (or log in) with that address and join
    (``volunteers.staff_invitations``). Kept after it is used or withdrawn, so an old link
    can say which, and the candidate sees who joined through one."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()  # lower-cased
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the link was last queued to go out (``slate.email_links.queue_link_if_due``).
    link_sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "email"],
                condition=Q(accepted_at__isnull=True, withdrawn_at__isnull=True),
                name="staff_invitation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to the staff of {self.candidate}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None


class CampaignOffice(models.Model):
    """Where a campaign takes in-person volunteers; without one, the centre of its state."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, related_name="volunteer_office"
    )
    zip_code = models.CharField("office ZIP code", max_length=10)

    def __str__(self) -> str:
        return f"{self.candidate} office at {self.zip_code}"


class MatchingRound(models.Model):
    """One per locked slate: its row lock serialises matching, ``completed_at`` makes it once."""

    slate = models.OneToOneField(Slate, on_delete=models.CASCADE, related_name="matching_round")
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    matched_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Matching for {self.slate}"


class VolunteerMatch(models.Model):
    """Where one volunteer pledge was sent at the lock, and why (in words, kept)."""

    pledge = models.OneToOneField(Pledge, on_delete=models.CASCADE, related_name="volunteer_match")
    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.PROTECT, related_name="volunteer_matches"
    )
    mode = models.CharField(max_length=16, choices=WorkMode.choices)
    distance_miles = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    chosen_by_volunteer = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["slate", "candidate"], name="volunteer_match_slate_cand")]

    def __str__(self) -> str:
        return f"Pledge #{self.pledge_id} → {self.candidate or 'unmatched'}"


class MatchChange(models.Model):
    """History of a match: the first assignment and every change the volunteer made."""

    match = models.ForeignKey(VolunteerMatch, on_delete=models.CASCADE, related_name="changes")
    from_candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Match #{self.match_id}: {self.from_candidate} → {self.to_candidate}"


class VolunteerEvent(models.Model):
    """A campaign's (or the slate's, or a partner's) event; volunteers sign up for its shifts."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="volunteer_events")
    candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.PROTECT, related_name="volunteer_events"
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer_events",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slate", "created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def host_label(self) -> str:
        if self.candidate_id:
            return f"{self.candidate.full_name}'s campaign"
        if self.organization_id:
            return self.organization.name
        return self.slate.name


class Shift(models.Model):
    event = models.ForeignKey(VolunteerEvent, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    activity = models.CharField(max_length=32, choices=VolunteerActivity.choices)
    mode = models.CharField(
        max_length=16, choices=[c for c in WorkMode.choices if c[0] != WorkMode.EITHER]
    )
    location = models.CharField("address", max_length=300, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    state = models.CharField(max_length=2, blank=True, editable=False)
    call_link = models.URLField(max_length=500, blank=True)
    # Where the shift's times are entered and shown (IANA name): the place's zone from its ZIP
    # code, or for a remote shift the host's (``shifts.add_shift``).
    time_zone = models.CharField(max_length=64, default="UTC")
    capacity = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    confirmed_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="shift_capacity_positive"),
            # The count is kept under the shift's row lock; the database refuses any excess.
            models.CheckConstraint(
                condition=Q(confirmed_count__lte=F("capacity")), name="shift_never_over_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.get_activity_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.confirmed_count)


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    WAITLISTED = "waitlisted", "On the waitlist"
    CANCELLED = "cancelled", "Cancelled"


class ShiftSignup(models.Model):
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="shift_signups")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift_signups"
    )
    status = models.CharField(max_length=16, choices=SignupStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the sign-up joined its current queue: the waitlist is served in this order.
    queued_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)
    delivered_minutes = models.PositiveIntegerField(default=0)
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attendance_marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shift", "queued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "volunteer"],
                condition=~Q(status="cancelled"),
                name="signup_one_live_per_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(attended=True) | Q(delivered_minutes=0),
                name="signup_delivered_only_if_attended",
            ),
        ]
        indexes = [models.Index(fields=["shift", "status"], name="signup_shift_status")]

    def __str__(self) -> str:
        return f"{self.volunteer} on {self.shift} ({self.status})"


class ReminderKind(models.TextChoices):
    DAY_BEFORE = "day", "A day before"
    HOUR_BEFORE = "hour", "An hour before"


class ShiftReminder(models.Model):
    """One row per reminder sent: the unique constraint is what makes it exactly one."""

    signup = models.ForeignKey(ShiftSignup, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signup", "kind"], name="reminder_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for sign-up #{self.signup_id}"
