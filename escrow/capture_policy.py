"""How much of a pledge may be captured, and for whom: the contribution limits.

The limits are compliance's (rules as data, donors, what each donor gave), and compliance
sits above escrow because it reads the ledger escrow writes. So escrow asks through this
slot, which compliance fills at startup (``ComplianceConfig.ready``). An empty slot raises
``ImproperlyConfigured``: escrow never captures money unchecked.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pledges.models import Pledge
from slate.policies import PolicySlot


class CaptureVerdict(Protocol):
    """What may be taken: ``capturable`` maps candidate ids to cents (their sum is
    ``total_cents``); ``reasons``: one sentence per cap."""

    capturable: Mapping[int, int]
    reasons: Sequence[str]

    @property
    def total_cents(self) -> int: ...


class CapturePolicy(Protocol):
    def prepare(
        self, *, supporter_ids: Iterable[int], pledge_ids: Iterable[int], candidate_ids: list[int]
    ) -> object:
        """The shared reads for deciding many captures of one release chunk (opaque to
        escrow, handed back to ``decide``)."""

    def decide(
        self,
        *,
        pledge: Pledge,
        planned: Mapping[int, int],
        at: datetime,
        signed_candidate_ids: list[int],
        context: object | None,
    ) -> CaptureVerdict:
        """What may be captured of the ``planned`` split, recorded so that the donor's other
        captures count it; runs in the caller's transaction (its lock lasts until the
        caller's capture intent is committed)."""

    def decided_split(self, *, pledge_id: int) -> CaptureVerdict | None:
        """The split last decided for the pledge, if any."""


capture_policy: PolicySlot[CapturePolicy] = PolicySlot(
    "capture policy (contribution limits on captures)", provided_by="compliance"
)
