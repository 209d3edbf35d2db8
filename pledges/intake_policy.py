"""The contribution rules a money pledge must pass beyond pledges' own checks.

Compliance owns them (attestations stored as a declaration, the conditions shown, donor
details once giving is itemized, the per-candidate limits); it sits above pledges because it
reads the escrow ledger, so it registers its policy here at startup
(``ComplianceConfig.ready``) and ``create_money_pledge`` asks it. No policy, no money
pledge: the slot raises ``ImproperlyConfigured`` rather than skip the rules.
"""

from collections.abc import Mapping
from typing import Protocol

from slate.models import Slate
from slate.policies import PolicySlot

from .models import Pledge


class MoneyPledgePolicy(Protocol):
    def check(
        self,
        *,
        supporter,
        slate: Slate,
        amount_cents: int,
        candidate_ids: list[int],
        weights: Mapping[int, int] | None,
        attestations: Mapping[str, object] | None,
        donor_details: Mapping[str, object] | None,
        allow_reallocation: bool,
        accept_limit_cap: bool,
        conditions_digest: str | None,
        condition_min_signatures: int | None,
        required_candidate_ids: list[int],
        invitations: list,
    ) -> object:
        """Before anything is written: a ``PledgeError`` naming the field if the pledge may
        not be taken, else what ``record`` needs (opaque to pledges)."""

    def record(self, *, pledge: Pledge, checked: object) -> None:
        """In the new pledge's transaction: store what ``check`` accepted with the pledge.
        An insert that collides must roll the caller's whole transaction back (no
        savepoint): ``create_money_pledge`` retries it."""


money_pledge_policy: PolicySlot[MoneyPledgePolicy] = PolicySlot(
    "money pledge policy (contribution rules for pledge intake)", provided_by="compliance"
)
