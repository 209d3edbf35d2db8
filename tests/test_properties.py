"""Property tests: any sequence of sign / withdraw / pledge / cancel / new agreement version
keeps the maintained totals equal to a recount and locks a slate exactly when its rule holds."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from candidates import selectors as candidate_selectors
from candidates import services as candidate_services
from compliance.declarations import ATTESTED
from pledges import services as pledge_services
from pledges.models import Pledge
from pledges.selectors import recount_slate
from pledges.states import PledgeState
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.states import SlateState
from tests.factories import UserFactory, make_open_slate, organizer_of, sign, slate_candidates

pytestmark = pytest.mark.django_db


@pytest.fixture
def without_release():
    """The release after a lock is escrow's (tested there); here the slate stays locked, so
    the invariant can compare the lock with the rule on the facts that caused it."""
    from slate.events import slate_locked

    slate_locked.disconnect(dispatch_uid="escrow.release_on_lock")
    yield
    from escrow.receivers import release_when_slate_locks

    slate_locked.connect(release_when_slate_locks, dispatch_uid="escrow.release_on_lock")


def test_any_operation_sequence_keeps_totals_and_the_rule_honest(
    django_capture_on_commit_callbacks, without_release
):
    class SlateMachine(RuleBasedStateMachine):
        @initialize(
            candidates=st.integers(2, 5),
            data=st.data(),
            min_money_cents=st.sampled_from([0, 5_000, 20_000]),
            min_volunteer_hours=st.sampled_from([0, 10]),
            required=st.integers(0, 1),
        )
        def build(self, candidates, data, min_money_cents, min_volunteer_hours, required):
            min_signatures = data.draw(st.integers(1, candidates), label="min_signatures")
            self.slate = make_open_slate(
                candidates=candidates,
                min_signatures=min_signatures,
                min_money_cents=min_money_cents,
                min_volunteer_hours=min_volunteer_hours,
                required=required,
            )
            self.candidates = slate_candidates(self.slate)
            self.supporters = [UserFactory() for _ in range(3)]
            self.refused = 0

        def attempt(self, operation, *args, **kwargs):
            """Run one operation as a request would: its own transaction, then its
            on-commit work (the threshold evaluation). A refusal must change nothing."""
            before = slate_selectors.slate_counts(self.slate.pk)
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    operation(*args, **kwargs)
            except DomainError:
                self.refused += 1
                assert slate_selectors.slate_counts(self.slate.pk) == before
            self.slate.refresh_from_db()

        @rule(index=st.integers(0, 4))
        def candidate_signs(self, index):
            self.attempt(sign, self.candidates[index % len(self.candidates)], self.slate)

        @rule(index=st.integers(0, 4))
        def candidate_withdraws(self, index):
            candidate = self.candidates[index % len(self.candidates)]
            self.attempt(
                candidate_services.withdraw_signature,
                candidate=candidate, slate=self.slate, signer=candidate.user,
            )  # fmt: skip

        @rule(text=st.text(min_size=1, max_size=20))
        def organizer_publishes_new_agreement_version(self, text):
            organizer = organizer_of(self.slate)

            def publish():
                candidate_services.save_agreement_draft(
                    slate=self.slate, actor=organizer, text=f"Amended: {text}"
                )
                candidate_services.publish_agreement(slate=self.slate, actor=organizer)

            self.attempt(publish)

        @rule(
            who=st.integers(0, 2),
            amount=st.integers(-100, 30_000),
            state=st.sampled_from(["", "CA", "NY"]),
            commit=st.booleans(),
        )
        def supporter_pledges_money(self, who, amount, state, commit):
            def pledge():
                created = pledge_services.create_money_pledge(attestations=ATTESTED,
                    supporter=self.supporters[who], slate=self.slate,
                    amount_cents=amount, supporter_state=state,
                )  # fmt: skip
                if commit:
                    pledge_services.commit_money_pledge(pledge=created)

            self.attempt(pledge)

        @rule(who=st.integers(0, 2), hours=st.integers(-2, 20))
        def supporter_volunteers(self, who, hours):
            self.attempt(
                pledge_services.create_volunteer_pledge,
                supporter=self.supporters[who], slate=self.slate, hours=hours,
                activities=["canvassing"], zip_code="02139",
            )  # fmt: skip

        @rule(who=st.integers(0, 2))
        def supporter_signs_on(self, who):
            self.attempt(pledge_services.sign_on, supporter=self.supporters[who], slate=self.slate)

        @rule(pick=st.integers(0, 50))
        def supporter_cancels(self, pick):
            pledges = list(Pledge.objects.filter(slate=self.slate).order_by("id"))
            if not pledges:
                return
            pledge = pledges[pick % len(pledges)]
            self.attempt(pledge_services.cancel_pledge, pledge=pledge, actor=pledge.supporter)

        @rule(pick=st.integers(0, 50))
        def escrow_places_a_hold(self, pick):
            committed = list(
                Pledge.objects.filter(slate=self.slate, state=PledgeState.COMMITTED, kind="money")
            )
            if committed:
                self.attempt(
                    pledge_services.transition_pledge,
                    pledge=committed[pick % len(committed)],
                    to_state=PledgeState.AUTHORIZED, reason="hold placed",
                )  # fmt: skip

        @invariant()
        def totals_equal_a_recount(self):
            recount = recount_slate(self.slate.pk)
            assert slate_selectors.slate_counts(self.slate.pk) == recount.counts
            for dimension in ("state", "partner", "day"):
                assert dict(slate_selectors.slate_breakdown(self.slate.pk, dimension)) == {
                    key: value for (d, key), value in recount.breakdown.items() if d == dimension
                }

        @invariant()
        def candidate_facts_equal_a_recount(self):
            facts = candidate_selectors.candidate_facts(self.slate)
            assert self.slate.signed_candidate_count == facts.signed_candidate_count
            assert self.slate.required_unsigned_count == facts.required_unsigned_count

        @invariant()
        def locked_exactly_when_the_rule_holds(self):
            holds = slate_selectors.threshold_verdict(self.slate).holds
            if self.slate.state == SlateState.LOCKED:
                assert holds, "a slate locked while its rule does not hold"
                assert self.slate.transitions.filter(to_state=SlateState.LOCKED).count() == 1
            else:
                assert self.slate.state == SlateState.OPEN
                assert not holds, "the rule holds but the slate did not lock"

    run_state_machine_as_test(
        SlateMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
