"""The demo's organizer update: on the sent-updates list with its counts, and no email sent."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from demo.seed import seed_demo
from demo.story import DEMO_SLATE_SLUG, ORGANIZER_EMAIL
from demo.updates import SUBJECT, seed_update_demo
from organizing.models import OrganizerUpdate

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_has_a_sent_update():
    from django.contrib.auth import get_user_model

    seed_demo()
    mail.outbox.clear()
    update = seed_update_demo()
    assert seed_update_demo() is None  # idempotent
    assert mail.outbox == []  # the seed is quiet
    update.refresh_from_db()
    assert update.status == OrganizerUpdate.Status.SENT
    assert update.audience_count > 100
    organizer = Client()
    organizer.force_login(get_user_model().objects.get(email=ORGANIZER_EMAIL))
    page = organizer.get(reverse("organize:updates", args=[DEMO_SLATE_SLUG]))
    assert page.status_code == 200
    [row] = page.context["sent_updates"]
    assert row.update.subject == SUBJECT
    assert row.sent == update.audience_count - update.skipped_cap_count
