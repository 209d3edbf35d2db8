"""Property: whatever the pledges, slates, prior contributions, allocations, consents and
order of captures, no capture ever puts any donor over any limit, and the ledger balances."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance import selectors, services
from compliance.contributions import contributions, donor_group_user_ids
from compliance.models import ContributionLimit
from escrow.allocation import allocate
from escrow.selectors import ledger_problems
from pledges import services as pledge_services
from pledges.services import PledgeError
from pledges.states import PledgeState
from tests.compliance.helpers import money_pledge, record_capture, slates_sharing_candidates
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10_000
AT = datetime(2026, 10, 1, 12, tzinfo=UTC)


class Rollback(Exception):
    pass


def test_no_capture_ever_puts_a_donor_over_a_limit():
    slates, candidates = slates_sharing_candidates(slates=3, candidates=4)
    ContributionLimit.objects.filter(office="house").update(limit_cents=LIMIT)
    users = [UserFactory() for _ in range(4)]
    ids = [c.pk for c in candidates]

    pledge_strategy = st.tuples(
        st.integers(0, len(users) - 1),  # supporter
        st.integers(0, len(slates) - 1),  # slate
        st.integers(100, 25_000),  # amount
        st.none() | st.lists(st.integers(1, 5), min_size=4, max_size=4),  # weights
        st.booleans(),  # allows reallocation
        st.sets(st.sampled_from(ids), min_size=1),  # signed candidates at its release
        st.sampled_from(["capture", "capture", "void", "leave"]),  # what happens after
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        prior=st.lists(
            st.tuples(
                st.integers(0, len(users) - 1), st.sampled_from(ids), st.integers(100, LIMIT)
            ),
            max_size=4,
        ),
        merge=st.booleans(),
        pledges=st.lists(pledge_strategy, min_size=1, max_size=6),
        capture_order=st.randoms(use_true_random=False),
        shared_context=st.booleans(),  # one read of the rules for every decision, as a release
    )
    def run(prior, merge, pledges, capture_order, shared_context):
        try:
            with transaction.atomic():
                check(prior, merge, pledges, capture_order, shared_context)
                raise Rollback
        except Rollback:
            pass

    def group_totals() -> dict[tuple[int, int], int]:
        """(root user, candidate) -> net contributions plus decided-but-uncaptured money."""
        from compliance.models import CaptureDecision

        totals: dict[tuple[int, int], int] = {}
        for user in users:
            group = donor_group_user_ids(user.pk)
            key_user = min(group)
            for contribution in contributions(user_ids=group):
                key = (key_user, contribution.candidate_id)
                totals[key] = totals.get(key, 0)
            for cid in ids:
                net = sum(c.net_cents for c in contributions(user_ids=group, candidate_ids=[cid]))
                pending = sum(
                    d.capturable.get(str(cid), 0)
                    for d in CaptureDecision.objects.filter(
                        pledge__supporter_id__in=group,
                        pledge__state__in=[PledgeState.COMMITTED, PledgeState.AUTHORIZED],
                    )
                )
                totals[(key_user, cid)] = net + pending
        return totals

    def check(prior, merge, pledges, capture_order, shared_context):
        if merge:
            survivor, duplicate = services.ensure_donor(users[0]), services.ensure_donor(users[1])
            duplicate.merged_into = survivor
            duplicate.save()
        # Prior contributions, each legal on its own and in total.
        given_so_far: dict[tuple[int, int], int] = {}
        for user_index, cid, cents in prior:
            root = min(donor_group_user_ids(users[user_index].pk))
            room = LIMIT - given_so_far.get((root, cid), 0)
            if room < 100:  # below the smallest pledge
                continue
            cents = min(cents, room)
            given_so_far[(root, cid)] = given_so_far.get((root, cid), 0) + cents
            old = money_pledge(slates[0], users[user_index], cents)
            record_capture(old, {cid: cents})
        # New pledges decided (as the release will, one by one), then captured in any order.
        context = selectors.capture_context(pledge_ids=[], candidate_ids=ids)
        decided = []
        for user_index, slate_index, amount, weights, allow, signed, fate in pledges:
            try:
                new = money_pledge(
                    slates[slate_index], users[user_index], amount, allow_reallocation=allow,
                    allocation=dict(zip(ids, _bps(weights), strict=True)) if weights else None,
                )  # fmt: skip
            except PledgeError as refused:  # every candidate already at the limit
                assert refused.code == "limit_reached"
                continue
            new = pledge_services.commit_money_pledge(pledge=new)
            bps = {a.candidate_id: a.weight_bps for a in new.allocations.all()}
            planned = allocate(amount, sorted(signed), bps)
            result = services.decide_capture(
                pledge=new, planned=planned, at=AT, signed_candidate_ids=signed,
                context=context if shared_context else None,
            )  # fmt: skip
            assert set(result.capturable) <= set(signed)
            assert result.total_cents + result.uncaptured_cents == amount
            decided.append((new, result, fate))
            assert all(total <= LIMIT for total in group_totals().values())
        capture_order.shuffle(decided)
        for new, result, fate in decided:
            if fate == "capture" and result.total_cents:
                record_capture(new, result.capturable)
            elif fate == "void" or not result.total_cents:
                pledge_services.transition_pledge(
                    pledge=new, to_state=PledgeState.VOIDED, reason="test"
                )
            assert all(total <= LIMIT for total in group_totals().values())
        assert ledger_problems() == []

    run()


def _bps(weights: list[int]) -> list[int]:
    """Whole basis points summing to 10000, in proportion to ``weights``."""
    total = sum(weights)
    parts = [w * 10_000 // total for w in weights]
    parts[0] += 10_000 - sum(parts)
    return parts
