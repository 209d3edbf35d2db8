"""Demo data for the record after the lock and the signers' room: a second, smaller slate the
demo's three signers all signed, so it locked; a vote on one of its planks with each signer's
vote and a source; what each signer shares in the signers' room; and a campaign staff member
of the demo candidate (``staff@slate.test``) who sees the room.

Runs after ``demo.seed.seed_demo`` (it needs the demo's organizer, signers and
supporters) at the real time, and does nothing once its slate exists. No email goes out: the
seed is quiet. The staff member's two-factor is the demo's (``demo.totp``), given by the
seed command afterwards.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from candidates import agreements as candidate_agreements
from candidates import invitations as candidate_invitations
from candidates import services as candidate_services
from candidates import signatures as candidate_signatures
from candidates import votes
from candidates.models import Candidate, VoteRecord
from candidates.selectors import current_agreement_version, valid_signatures
from pledges import intake as pledge_intake
from pledges import notifications
from slate import lifecycle as slate_lifecycle
from slate import services as slate_services
from slate.models import Slate
from volunteers import room

from .story import CANDIDATE_EMAIL, DEMO_DOMAIN, DEMO_SLATE_SLUG, ORGANIZER_EMAIL

RECORD_SLATE_SLUG = "water-and-wages-compact"
RECORD_SLATE_NAME = "Water and Wages Compact"
STAFF_EMAIL = f"staff@{DEMO_DOMAIN}"
PLANKS = (
    ("Lead pipes out", "Replace every lead service line within eight years, paid federally."),
    ("A living wage", "A $17 federal minimum wage, indexed to median wages."),
)
AGREEMENT_TEXT = (
    "We vote together on both planks, say so in public before any vote we cannot make with "
    "the bloc, and appear together once a month in each of our states in turn."
)
# signer name -> what they share in the signers' room (empty fields are not shared)
SHARED = {
    "Elena Marquez": {
        "phone": "(555) 010-4400",
        "scheduler": "Casey Staff, scheduling: staff@slate.test",
        "note": "Weekday mornings are best; text first.",
    },
    "Darnell Whitaker": {"email": "darnell.direct@example.org"},
    "Priya Raman": {"phone": "(555) 010-7712", "note": "Lansing in session Tue-Thu."},
}
# signer name -> their vote; the bloc voted yes
VOTES = {"Elena Marquez": "yes", "Darnell Whitaker": "yes", "Priya Raman": "not_member"}


def seed_record_demo(*, stdout=None) -> VoteRecord | None:
    """Returns the vote record made (None when already seeded or no demo slate)."""
    demo = Slate.objects.filter(slug=DEMO_SLATE_SLUG).first()
    if demo is None or Slate.objects.filter(slug=RECORD_SLATE_SLUG).exists():
        return None
    organizer = demo.organizers.get(email=ORGANIZER_EMAIL)
    signers = list(
        Candidate.objects.filter(pk__in=valid_signatures(demo).values("candidate_id")).order_by(
            "id"
        )
    )
    with notifications.quiet(), transaction.atomic():
        slate = slate_services.create_slate(
            name=RECORD_SLATE_NAME,
            slug=RECORD_SLATE_SLUG,
            mission="Clean water and a living wage, voted for together.",
            deadline=timezone.now() + timedelta(days=20),
            threshold_min_signatures=len(signers),
            created_by=organizer,
            planks=PLANKS,
        )
        for candidate in signers:
            candidate_invitations.invite_candidate(
                slate=slate, candidate=candidate, actor=organizer
            )
        candidate_agreements.save_agreement_draft(slate=slate, actor=organizer, text=AGREEMENT_TEXT)
        candidate_agreements.publish_agreement(slate=slate, actor=organizer)
        slate = slate_lifecycle.open_slate(slate=slate, actor=organizer)
        for supporter in (
            get_user_model()
            .objects.filter(pledges__slate=demo, pledges__kind="signon")
            .distinct()[:40]
        ):
            pledge_intake.sign_on(supporter=supporter, slate=slate)
        version = current_agreement_version(slate)
        for candidate in signers:
            candidate_signatures.sign_agreement(
                candidate=candidate, slate=slate, agreement_version_id=version.pk,
                typed_name=candidate.full_name, signer=candidate.user,
                ip_address="203.0.113.20", user_agent="demo seed",
            )  # fmt: skip
            shared = SHARED.get(candidate.full_name)
            if shared:
                candidate_services.set_signer_contact(
                    candidate=candidate, actor=candidate.user, **shared
                )
    slate_lifecycle.evaluate_threshold(slate_id=slate.pk)  # all signed: it locks
    slate.refresh_from_db()
    elena = next((c for c in signers if c.user and c.user.email == CANDIDATE_EMAIL), None)
    with notifications.quiet(), transaction.atomic():
        if elena is not None:
            staff, _ = get_user_model().objects.get_or_create(
                username="staff",
                defaults={
                    "email": STAFF_EMAIL,
                    "first_name": "Casey",
                    "last_name": "Staff",
                    "password": organizer.password,  # the demo password
                },
            )
            EmailAddress.objects.update_or_create(
                user=staff, email=STAFF_EMAIL, defaults={"verified": True, "primary": True}
            )
            room.add_staff(candidate=elena, actor=elena.user, email=STAFF_EMAIL)
        record = None
        if slate.locked_at is not None:
            record = votes.record_vote(
                slate=slate, actor=organizer, plank_position=1,
                description="H.R. 1102, Lead Service Line Replacement Act, final passage",
                voted_on=timezone.localdate(), bloc_vote="yes",
                source_url="https://clerk.house.gov/Votes/",
                votes={c.pk: VOTES.get(c.full_name, "yes") for c in signers}, announce=False,
            )  # fmt: skip
    if stdout is not None:
        stdout.write(
            f"Locked slate with a vote record: {RECORD_SLATE_NAME} at /slates/{RECORD_SLATE_SLUG}/"
            f"; signers' room at /volunteer/slates/{RECORD_SLATE_SLUG}/room/ "
            f"(signers, and campaign staff {STAFF_EMAIL})"
        )
    return record
