"""Property tests: any sequence of sign / withdraw / pledge / cancel / new agreement version
keeps the maintained totals equal to a recount, and the totals, the signature facts and the
lock equal to what a model of the operations (its own count of signatures, live money and
hours, and its own evaluation of the rule) says."""

from dataclasses import dataclass

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

from candidates import agreements as candidate_agreements
from candidates import signatures as candidate_signatures
from pledges import intake as pledge_intake
from pledges import services as pledge_services
from pledges.declarations import ATTESTED
from pledges.models import Pledge
from pledges.selectors import recount_slate
from pledges.states import PledgeState
from slate import selectors as slate_selectors
from slate.errors import DomainError
from slate.states import SlateState
from tests.compliance.helpers import DETAILS
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


@dataclass
class ModelPledge:
    kind: str
    state: str
    amount_cents: int = 0
    hours: int = 0
    supporter: int = 0


class Model:
    """What the operations accepted so far mean, kept apart from the code under test: who has
    signed which agreement version, which pledges are live with how much, and the slate's
    rule evaluated on that (the code's own totals, facts and verdict are never asked)."""

    def __init__(self, *, candidates, required, min_signatures, min_money_cents, min_hours):
        self.candidates = candidates
        self.required = set(range(required))  # the first ``required`` are invited as required
        self.min_signatures = min_signatures
        self.min_money_cents = min_money_cents
        self.min_hours = min_hours
        self.version = 1
        self.signed: dict[int, int] = {}  # candidate index -> the version of their signature
        self.pledges: dict[int, ModelPledge] = {}  # pledge id -> what it is
        self.locked = False

    def counted(self) -> set[int]:
        return {index for index, version in self.signed.items() if version == self.version}

    def money_cents(self) -> int:
        return sum(
            p.amount_cents
            for p in self.pledges.values()
            if p.kind == "money" and p.state in ("committed", "authorized")
        )

    def hours(self) -> int:
        return sum(
            p.hours
            for p in self.pledges.values()
            if p.kind == "volunteer" and p.state == "committed"
        )

    def rule_holds(self) -> bool:
        counted = self.counted()
        return (
            len(counted) >= self.min_signatures
            and self.required <= counted
            and self.money_cents() >= self.min_money_cents
            and self.hours() >= self.min_hours
        )


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
            self.model = Model(
                candidates=candidates, required=required, min_signatures=min_signatures,
                min_money_cents=min_money_cents, min_hours=min_volunteer_hours,
            )  # fmt: skip

        def attempt(self, operation, *args, expect=None, **kwargs):
            """Run one operation as a request would: its own transaction, then its
            on-commit work (the threshold evaluation). A refusal must change nothing.
            ``expect`` (True: accepted, False: refused) is the model's prediction, when it
            makes one. Returns whether the operation was accepted."""
            before = slate_selectors.slate_counts(self.slate.pk)
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    operation(*args, **kwargs)
                accepted = True
            except DomainError as refusal:
                accepted = False
                assert expect is not True, f"refused: {refusal.code} {refusal.message}"
                assert slate_selectors.slate_counts(self.slate.pk) == before
            assert expect is not False or accepted is False, "the model expected a refusal"
            self.slate.refresh_from_db()
            return accepted

        def settle(self):
            """After an accepted operation: the lock the model expects from its own rule."""
            if not self.model.locked and self.model.rule_holds():
                self.model.locked = True

        @rule(index=st.integers(0, 4))
        def candidate_signs(self, index):
            index %= len(self.candidates)
            model = self.model
            expect = not model.locked and model.signed.get(index) != model.version
            if self.attempt(sign, self.candidates[index], self.slate, expect=expect):
                model.signed[index] = model.version  # a signature on an older one is replaced
                self.settle()

        @rule(index=st.integers(0, 4))
        def candidate_withdraws(self, index):
            index %= len(self.candidates)
            candidate = self.candidates[index]
            expect = not self.model.locked and index in self.model.signed
            if self.attempt(
                candidate_signatures.withdraw_signature,
                candidate=candidate, slate=self.slate, signer=candidate.user, expect=expect,
            ):  # fmt: skip
                del self.model.signed[index]
                self.settle()

        @rule(text=st.text(min_size=1, max_size=20))
        def organizer_publishes_new_agreement_version(self, text):
            organizer = organizer_of(self.slate)

            def publish():
                candidate_agreements.save_agreement_draft(
                    slate=self.slate, actor=organizer, text=f"Amended: {text}"
                )
                candidate_agreements.publish_agreement(slate=self.slate, actor=organizer)

            # Whether the text is accepted (clean_text) or the same as the last is the
            # candidates app's to test; a locked slate's agreement never changes.
            if self.attempt(publish, expect=False if self.model.locked else None):
                self.model.version += 1  # every signature so far stops counting
                self.settle()

        @rule(
            who=st.integers(0, 2),
            # amounts that meet the money rule exactly, often (5,000 and 20,000 are the rules)
            amount=st.sampled_from([2_500, 5_000, 15_000, 20_000]) | st.integers(-100, 30_000),
            state=st.sampled_from(["", "CA", "NY"]),
            commit=st.booleans(),
        )
        def supporter_pledges_money(self, who, amount, state, commit):
            created = []

            def pledge():
                created.append(
                    pledge_intake.create_money_pledge(
                        attestations=ATTESTED, donor_details=DETAILS, accept_limit_cap=True,
                        supporter=self.supporters[who], slate=self.slate,
                        amount_cents=amount, supporter_state=state,
                    )
                )  # fmt: skip
                if commit:
                    pledge_services.commit_money_pledge(pledge=created[0])

            expect = not self.model.locked and amount >= 100
            if self.attempt(pledge, expect=expect):
                self.model.pledges[created[0].pk] = ModelPledge(
                    "money", "committed" if commit else "pending_card",
                    amount_cents=amount, supporter=who,
                )  # fmt: skip
                self.settle()

        @rule(who=st.integers(0, 2), hours=st.sampled_from([5, 10]) | st.integers(-2, 20))
        def supporter_volunteers(self, who, hours):
            created = []

            def volunteer():
                created.append(
                    pledge_intake.create_volunteer_pledge(
                        supporter=self.supporters[who], slate=self.slate, hours=hours,
                        activities=["canvassing"], zip_code="02139",
                    )
                )  # fmt: skip

            if self.attempt(volunteer, expect=not self.model.locked and hours >= 1):
                self.model.pledges[created[0].pk] = ModelPledge(
                    "volunteer", "committed", hours=hours, supporter=who
                )
                self.settle()

        @rule(who=st.integers(0, 2))
        def supporter_signs_on(self, who):
            created = []
            signed_on = any(
                p.kind == "signon" and p.state == "committed" and p.supporter == who
                for p in self.model.pledges.values()
            )

            def sign_on():
                created.append(
                    pledge_intake.sign_on(supporter=self.supporters[who], slate=self.slate)
                )

            # Signing on again returns the first sign-on, even once the slate has locked.
            expect = signed_on or not self.model.locked
            if self.attempt(sign_on, expect=expect):
                self.model.pledges.setdefault(
                    created[0].pk, ModelPledge("signon", "committed", supporter=who)
                )
                self.settle()

        @rule(pick=st.integers(0, 50))
        def supporter_cancels(self, pick):
            if not self.model.pledges:
                return
            ids = sorted(self.model.pledges)
            pledge_id = ids[pick % len(ids)]
            mine = self.model.pledges[pledge_id]
            cancellable = ("pending_card", "committed") if mine.kind == "money" else ("committed",)
            pledge = Pledge.objects.get(pk=pledge_id)
            expect = not self.model.locked and mine.state in cancellable
            if self.attempt(
                pledge_services.cancel_pledge, pledge=pledge, actor=pledge.supporter, expect=expect
            ):
                mine.state = "cancelled"
                self.settle()

        @rule(pick=st.integers(0, 50))
        def escrow_places_a_hold(self, pick):
            committed = sorted(
                pk for pk, p in self.model.pledges.items()
                if p.kind == "money" and p.state == "committed"
            )  # fmt: skip
            if committed:
                pledge_id = committed[pick % len(committed)]
                if self.attempt(
                    pledge_services.transition_pledge,
                    pledge=Pledge.objects.get(pk=pledge_id),
                    to_state=PledgeState.AUTHORIZED, reason="hold placed", expect=True,
                ):  # fmt: skip
                    self.model.pledges[pledge_id].state = "authorized"
                    self.settle()

        @invariant()
        def totals_equal_a_recount(self):
            recount = recount_slate(self.slate.pk)
            assert slate_selectors.slate_counts(self.slate.pk) == recount.counts
            for dimension in ("state", "partner", "day"):
                assert dict(slate_selectors.slate_breakdown(self.slate.pk, dimension)) == {
                    key: value for (d, key), value in recount.breakdown.items() if d == dimension
                }

        @invariant()
        def totals_and_facts_equal_the_model(self):
            counts = slate_selectors.slate_counts(self.slate.pk)
            assert counts.money_pledged_cents == self.model.money_cents()
            assert counts.volunteer_hours == self.model.hours()
            counted = self.model.counted()
            assert self.slate.signed_candidate_count == len(counted)
            assert self.slate.required_unsigned_count == len(self.model.required - counted)

        @invariant()
        def locked_exactly_when_the_models_rule_first_held(self):
            if self.model.locked:
                assert self.slate.state == SlateState.LOCKED, (
                    "the rule held (on the model's own count) but the slate did not lock"
                )
                assert self.slate.transitions.filter(to_state=SlateState.LOCKED).count() == 1
            else:
                assert self.slate.state == SlateState.OPEN, "locked while the rule does not hold"

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
