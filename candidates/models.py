import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from slate.geography import US_STATES, Office
from slate.models import Slate

from .validators import validate_fec_candidate_id, validate_fec_committee_id, validate_phone


class Candidate(models.Model):
    Office = Office  # the choices live in slate.geography; Candidate.Office as ever

    full_name = models.CharField(max_length=200)
    office = models.CharField(max_length=32, choices=Office.choices)
    state = models.CharField(max_length=2, choices=US_STATES)
    district = models.CharField(max_length=32, blank=True)
    party = models.CharField(max_length=64, blank=True)
    website = models.URLField("campaign website", blank=True)
    # The campaign's public contact, entered by an organizer: shown beside "ask them to sign".
    public_phone = models.CharField(
        "campaign office phone", max_length=32, blank=True, validators=[validate_phone]
    )
    public_email = models.EmailField("campaign public email", blank=True)
    statement = models.TextField(
        blank=True, help_text="The candidate's own words on their public page (they write it)."
    )
    digest_paused = models.BooleanField(
        default=False, help_text="The candidate paused the weekly digest of what waits for them."
    )
    fec_candidate_id = models.CharField(
        "FEC candidate id", max_length=9, blank=True, validators=[validate_fec_candidate_id]
    )
    fec_committee_id = models.CharField(
        "FEC committee id", max_length=9, blank=True, validators=[validate_fec_committee_id]
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidate_profile",
        help_text="The account that claimed this profile.",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verified_candidates",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fec_candidate_id"],
                condition=~models.Q(fec_candidate_id=""),
                name="candidate_unique_fec_id",
                violation_error_code="duplicate_fec_id",
                violation_error_message=(
                    "Another candidate profile already has this FEC candidate ID."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("candidates:profile", kwargs={"candidate_id": self.pk})

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def initials(self) -> str:
        """Shown where a photo would be: first letters of the first and last name."""
        words = self.full_name.split()
        return "".join(word[0] for word in (words[:1] + words[1:][-1:])).upper()

    @property
    def office_label(self) -> str:
        district = f"-{self.district}" if self.district else ""
        return f"{self.get_office_display()}, {self.state}{district}"


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="invitations")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="invitations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_required = models.BooleanField(
        default=False, help_text="The slate cannot lock unless this candidate signs."
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Declining is made in public: the candidate's optional reason is shown on the slate page.
    decline_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["slate", "candidate__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["slate", "candidate"], name="invitation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} invited to {self.slate}"

    @property
    def counts_toward_slate(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.ACCEPTED)


class CoordinationAgreement(models.Model):
    slate = models.OneToOneField(Slate, on_delete=models.CASCADE, related_name="agreement")
    title = models.CharField(max_length=200, default="Coordination agreement")

    def __str__(self) -> str:
        return f"{self.title} ({self.slate})"


def agreement_content_hash(title: str, text: str, planks: list[dict] | None = None) -> str:
    """SHA-256 of what a candidate signs: the title, the text and the planks (title and text
    of each, in order). A version without planks hashes as before planks were part of it, so
    stored hashes of such versions stay valid."""
    content = f"{title}\n\n{text}"
    if planks:
        canonical = [{"title": plank["title"], "text": plank["text"]} for plank in planks]
        content += "\n\nPlanks: " + json.dumps(canonical, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


class AgreementVersion(models.Model):
    """One version of an agreement's text. Once published it never changes."""

    agreement = models.ForeignKey(
        CoordinationAgreement, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    # The slate's planks when this version was written: [{"title": ..., "text": ...}], in
    # order; position n is planks[n - 1]. Part of the hash, so a changed plank is a new version.
    planks = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="agreement_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = AgreementVersion.objects.filter(pk=self.pk).values("published_at").first()
            if stored and stored["published_at"] is not None:
                raise ValidationError("A published agreement version cannot be changed.")
        self.content_hash = agreement_content_hash(self.title, self.text, self.planks)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.published_at is not None:
            raise ValidationError("A published agreement version cannot be deleted.")
        return super().delete(*args, **kwargs)

    def numbered_planks(self) -> list[tuple[int, dict]]:
        return list(enumerate(self.planks, start=1))


class Signature(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="signatures")
    slate = models.ForeignKey(Slate, on_delete=models.PROTECT, related_name="signatures")
    agreement_version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["slate", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "slate"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="signature_one_active_per_candidate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} signed {self.agreement_version}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class PlankCommitment(models.Model):
    """A signer's word on one plank of the version they signed: committed, or committed with a
    reservation they state publicly (the agreement asks a dissenting signer to say so in
    advance). Written with the signature and never changed; a new version needs new ones."""

    class Choice(models.TextChoices):
        COMMITTED = "committed", "Committed"
        RESERVED = "reserved", "Committed with a reservation"

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="commitments")
    position = models.PositiveSmallIntegerField(help_text="The plank's place in the version.")
    choice = models.CharField(max_length=16, choices=Choice.choices)
    reservation = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["signature", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["signature", "position"], name="plank_commitment_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(choice="committed", reservation="")
                | (models.Q(choice="reserved") & ~models.Q(reservation="")),
                name="plank_commitment_reservation_iff_reserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signature.candidate} on plank {self.position}: {self.choice}"


class Ask(models.Model):
    """A supporter's counted ask that an invited candidate sign: one per supporter, candidate
    and slate. The message is stored as written (plain text) and escaped where shown; an
    organizer may hide it from the public, and the ask still counts."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="asks")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="asks")
    supporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="asks"
    )
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slate", "candidate", "supporter"], name="ask_one_per_supporter"
            ),
        ]
        indexes = [models.Index(fields=["ip_address", "created_at"], name="ask_ip_recent")]

    def __str__(self) -> str:
        return f"{self.supporter} asks {self.candidate} to sign {self.slate}"

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class CandidateNotice(models.Model):
    """The outbox of emails to an unsigned candidate about one slate (``candidates.news``):
    queued once per (slate, candidate, kind, period) — the ISO week for the digest, once ever
    for "one signature away" — and settled by the task that sends it (or finds it no longer
    true), so a task that runs twice sends nothing the second time."""

    class Kind(models.TextChoices):
        DIGEST = "digest", "Weekly digest"
        ONE_AWAY = "one_away", "One signature away"

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="candidate_notices")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.CharField(max_length=16, blank=True, help_text="ISO week of a digest.")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    sent = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slate", "candidate", "kind", "period"], name="candidate_notice_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(settled_at__isnull=True),
                name="candidate_notice_unsettled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.candidate} ({self.slate}) {self.period}"


class VoteRecord(models.Model):
    """After the lock, the slate's organizers record a vote on one of its planks: what was
    voted, when, which way keeps the bloc, each signer's vote and where it is published
    (``candidates.votes``). The plank's title is copied as signed, so the record reads the
    same if the planks change later."""

    class BlocVote(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="vote_records")
    plank_position = models.PositiveSmallIntegerField()
    plank_title = models.CharField(max_length=200)
    description = models.CharField("what was voted", max_length=300)
    voted_on = models.DateField()
    bloc_vote = models.CharField(
        "the vote that keeps the plank", max_length=8, choices=BlocVote.choices
    )
    source_url = models.URLField("source", max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-voted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.description} ({self.voted_on})"


class SignerVote(models.Model):
    """How one signer voted in a recorded vote."""

    class Vote(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        ABSTAINED = "abstained", "Abstained"
        ABSENT = "absent", "Absent"
        NOT_MEMBER = "not_member", "Not a member of the voting body"

    record = models.ForeignKey(VoteRecord, on_delete=models.CASCADE, related_name="votes")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="votes")
    vote = models.CharField(max_length=16, choices=Vote.choices)

    class Meta:
        ordering = ["record", "candidate__full_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "candidate"], name="signer_vote_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} voted {self.vote} on {self.record}"

    @property
    def counted(self) -> bool:
        """A yes or no; abstaining, absence and votes in another body are neither."""
        return self.vote in (self.Vote.YES, self.Vote.NO)

    @property
    def kept(self) -> bool:
        return self.vote == self.record.bloc_vote

    @property
    def outcome(self) -> str:
        """'kept', 'broke', 'missed' (abstained or absent) or 'n/a' (not in that body)."""
        if self.vote == self.Vote.NOT_MEMBER:
            return "n/a"
        if not self.counted:
            return "missed"
        return "kept" if self.kept else "broke"


class SignerContact(models.Model):
    """How a candidate may be reached by the other signers of their slates and their campaign
    staff, in the signers' room: each field is shared only when the candidate fills it in
    (they write it themself; nobody else sees it, the public never)."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, related_name="signer_contact", primary_key=True
    )
    phone = models.CharField("direct phone", max_length=32, blank=True, validators=[validate_phone])
    email = models.EmailField("direct email", blank=True)
    scheduler = models.CharField(
        "scheduler or chief of staff (name and how to reach them)", max_length=200, blank=True
    )
    note = models.CharField(
        "a note to the other signers (best times, how you like to be reached)",
        max_length=500,
        blank=True,
    )
    updated_at = models.DateTimeField(auto_now=True)

    SHARED_FIELDS = ("phone", "email", "scheduler", "note")

    def __str__(self) -> str:
        return f"{self.candidate}'s contact for the signers' room"

    def shared(self) -> list[tuple[str, str]]:
        """(label, value) of each field the candidate chose to share, in order."""
        return [
            (self._meta.get_field(name).verbose_name, getattr(self, name))
            for name in self.SHARED_FIELDS
            if getattr(self, name)
        ]


class AskRequest(models.Model):
    """An ask from someone without an account (or not signed in): name, email and message,
    counted only once the link emailed to that address is followed, when it becomes the
    ``Ask`` of that address's account (``candidates.asks``). One per address, candidate and
    slate, so asking again is the same request."""

    slate = models.ForeignKey(Slate, on_delete=models.CASCADE, related_name="ask_requests")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()  # lower-cased
    name = models.CharField(max_length=100)
    message = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    link_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ask = models.OneToOneField(
        Ask, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slate", "candidate", "email"], name="ask_request_once"
            ),
        ]
        indexes = [models.Index(fields=["ip_address", "created_at"], name="ask_request_ip_recent")]

    def __str__(self) -> str:
        return f"ask request #{self.pk} to {self.candidate_id} on {self.slate_id}"


class CandidatePhoto(models.Model):
    """The photo on a candidate's public page, uploaded by the candidate: stored as the JPEG we
    re-encoded from their upload (square, at most ``candidates.photos.SIZE`` pixels, no
    metadata), never as the file they sent. Without one the page shows their initials."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, related_name="photo", primary_key=True
    )
    jpeg = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Photo of {self.candidate}"
