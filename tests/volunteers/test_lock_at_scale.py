"""End to end on PostgreSQL: 500 volunteer pledges across states, the lock, the distribution."""

import random
from collections import Counter, defaultdict

import pytest
from django.core import mail

from pledges.models import Pledge
from tests.factories import UserFactory, make_open_slate, slate_candidates
from volunteers import services
from volunteers.models import VolunteerMatch

from .helpers import lock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Candidates are invited in the factories' state order: CA, NY, TX, PA, OH.
CAMPAIGN_ZIPS = {"CA": ["94110", "90012"], "NY": ["10001", "14604"], "TX": ["73301", "77002"],
                 "PA": ["19104"], "OH": ["43215"]}  # fmt: skip
ELSEWHERE = ["33101", "98101", "30303", "85004"]  # FL, WA, GA, AZ: no campaign within reach


def test_five_hundred_volunteers_are_matched_as_the_rule_says():
    slate = make_open_slate(candidates=5, min_signatures=5)
    campaigns = {c.state: c for c in slate_candidates(slate)}
    rng = random.Random(2026)
    expected_in_person = Counter()
    expected_unmatched = set()
    remote_hours = []
    for index in range(500):
        if rng.random() < 0.7:
            state = rng.choice(sorted(CAMPAIGN_ZIPS))
            zip_code = rng.choice(CAMPAIGN_ZIPS[state])
        else:
            state, zip_code = None, rng.choice(ELSEWHERE)
        mode = rng.choice(["in_person", "in_person", "either", "remote"])
        hours = rng.randint(1, 40)
        pledge = services.pledge_volunteer_hours(
            supporter=UserFactory(), slate=slate, hours=hours, activities=["canvassing"],
            zip_code=zip_code, mode=mode, share_contact=index % 3 == 0,
        )  # fmt: skip
        if mode != "remote" and state:
            expected_in_person[state] += 1
        elif mode == "in_person":
            expected_unmatched.add(pledge.pk)
        else:
            remote_hours.append(hours)
    mail.outbox.clear()

    lock(slate)

    matches = list(VolunteerMatch.objects.select_related("candidate", "pledge"))
    assert len(matches) == 500 == Pledge.objects.count()
    placed = [m for m in matches if m.candidate is not None]
    in_person = Counter(m.candidate.state for m in placed if m.mode == "in_person")
    assert in_person == expected_in_person
    assert all(
        m.candidate.state == geo_state(m.pledge.zip_code) for m in placed if m.mode == "in_person"
    )
    assert {m.pledge_id for m in matches if m.candidate is None} == expected_unmatched
    assert sum(1 for m in matches if m.mode == "remote") == len(remote_hours)

    # Balance: every campaign that got remote help ends within one remote pledge of the least
    # helped campaign.
    load = defaultdict(int)
    for m in placed:
        load[m.candidate.state] += m.pledge.hours
    helped = {m.candidate.state for m in matches if m.mode == "remote"}
    assert helped, "the remote pool went somewhere"
    for state in helped:
        assert load[state] - min(load[s] for s in campaigns) <= max(remote_hours)

    # one match notice each (the lock's milestone news, with its unsubscribe header, aside)
    assert len([m for m in mail.outbox if "List-Unsubscribe" not in m.extra_headers]) == 500
    # Stable: matching again changes nothing.
    assert services.match_slate_volunteers(slate_id=slate.pk) == 0
    assert sorted(VolunteerMatch.objects.values_list("pledge_id", "candidate_id")) == sorted(
        (m.pledge_id, m.candidate_id) for m in matches
    )


def geo_state(zip_code):
    from slate.geo import zip_place

    return zip_place(zip_code).state
