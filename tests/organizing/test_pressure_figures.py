"""The organizer's dashboard: what presses on each unsigned candidate."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates import asks, tasks
from candidates.models import Ask, Invitation
from organizing.dashboard import organizer_dashboard
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from tests.factories import UserFactory, sign, slate_candidates

pytestmark = pytest.mark.django_db


def test_each_unsigned_candidate_has_their_pressure_figures(client, slate, organizer):
    signer, most_asked, other, _ = slate_candidates(slate)  # states CA, NY, TX, PA
    sign(signer, slate)
    pledge = pledge_intake.create_money_pledge(
        attestations=ATTESTED, supporter=UserFactory(), slate=slate, amount_cents=4_000,
        supporter_state="NY",
    )  # fmt: skip
    pledge_services.commit_money_pledge(pledge=pledge)
    for _ in range(3):
        asks.record_ask(slate=slate, candidate=most_asked, supporter=UserFactory())
    old = asks.record_ask(slate=slate, candidate=other, supporter=UserFactory())
    Ask.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9))
    Invitation.objects.filter(slate=slate, candidate=other).update(
        created_at=timezone.now() - timedelta(days=12)
    )
    tasks.send_weekly_digests()

    rows = organizer_dashboard(slate).pressure
    assert [row.standing.candidate for row in rows][:2] == [most_asked, other]
    assert signer not in [row.standing.candidate for row in rows]
    top, second = rows[:2]
    assert (top.asks.total, top.asks.this_week) == (3, 3)
    assert (second.asks.total, second.asks.this_week) == (1, 0)
    assert top.from_state.money_cents == 4_000 and second.from_state.money_cents == 0
    assert second.days_invited == 12
    assert top.last_email is not None and top.last_email.opened_at is None

    client.force_login(organizer)
    page = client.get(reverse("organize:dashboard", args=[slate.slug])).content.decode()
    assert "Pressure on the unsigned" in page
    assert f'data-testid="pressure-{most_asked.pk}"' in page
