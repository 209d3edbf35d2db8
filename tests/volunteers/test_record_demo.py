"""The demo's locked slate: a vote on the record, what the signers share in their room, and a
campaign staff member who sees it."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from candidates.models import SignerContact, VoteRecord
from demo.record import RECORD_SLATE_SLUG, STAFF_EMAIL, seed_record_demo
from demo.seed import seed_demo
from demo.story import CANDIDATE_EMAIL, DEMO_DOMAIN
from demo.totp import ensure_demo_totp
from slate.models import Slate
from tests.factories import LOCKED_OR_LATER

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_has_a_locked_slate_with_a_vote_record_and_a_signers_room():
    from django.contrib.auth import get_user_model

    seed_demo()
    mail.outbox.clear()
    record = seed_record_demo()
    assert seed_record_demo() is None  # idempotent
    ensure_demo_totp(domain=DEMO_DOMAIN)  # as the seed command does: staff need two-factor
    slate = Slate.objects.get(slug=RECORD_SLATE_SLUG)
    assert slate.state in LOCKED_OR_LATER
    assert VoteRecord.objects.get() == record
    assert sorted(v.outcome for v in record.votes.all()) == ["kept", "kept", "n/a"]
    assert SignerContact.objects.count() == 3
    assert mail.outbox == []  # the seed is quiet

    users = get_user_model().objects
    staff = Client()
    staff.force_login(users.get(email=STAFF_EMAIL))
    room = staff.get(reverse("volunteer_hosts:room", args=[slate.slug])).content.decode()
    assert "(555) 010-4400" in room and "darnell.direct@example.org" in room
    page = Client().get(slate.get_absolute_url()).content.decode()
    assert "Lead Service Line Replacement Act" in page
    assert "darnell.direct@example.org" not in page  # the room's, never the public's
    elena = users.get(email=CANDIDATE_EMAIL).candidate_profile
    assert "Kept the bloc in 1 of 1" in Client().get(elena.get_absolute_url()).content.decode()
