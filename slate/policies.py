"""Slots for a policy an app below asks for and an app above provides.

Some questions a lower app must ask have their answers above it: pledge intake and the
capture split need the contribution limits, which compliance owns because it reads the
ledger that escrow writes. The lower app declares a ``PolicySlot``; the upper app fills it
when Django starts (its ``AppConfig.ready``), so no module imports upward.

Unlike the slate page's sections, a missing policy is never skipped: taking or capturing
money without the limits would break the law quietly. So an empty slot raises
``ImproperlyConfigured`` on first use, and ``manage.py check`` (run before the server
starts and in the test suite) reports it at startup.
"""

from typing import Generic, TypeVar

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

PolicyT = TypeVar("PolicyT")

_slots: list["PolicySlot"] = []


class PolicySlot(Generic[PolicyT]):
    """One policy, registered once. ``name`` says what it decides, ``provided_by`` which
    app is expected to fill it (both only for the error messages)."""

    def __init__(self, name: str, *, provided_by: str) -> None:
        self.name = name
        self.provided_by = provided_by
        self._policy: PolicyT | None = None
        _slots.append(self)

    def register(self, policy: PolicyT) -> PolicyT:
        """Fill the slot. Registering the same policy again is harmless (``ready`` may run
        twice in tests); a second, different one is a programming error: which would win?"""
        if self._policy is not None and self._policy is not policy:
            raise ImproperlyConfigured(
                f"The {self.name} is already registered ({self._policy!r}); refusing {policy!r}."
            )
        self._policy = policy
        return policy

    def get(self) -> PolicyT:
        if self._policy is None:
            raise ImproperlyConfigured(
                f"No {self.name} is registered: {self.provided_by} registers it when Django "
                "starts (is it in INSTALLED_APPS?). Nothing proceeds without it."
            )
        return self._policy

    @property
    def registered(self) -> bool:
        return self._policy is not None

    def __repr__(self) -> str:
        return f"PolicySlot({self.name!r})"


@checks.register()
def check_policies_registered(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"No {slot.name} is registered.",
            hint=f"{slot.provided_by} registers it in its AppConfig.ready; add it to "
            "INSTALLED_APPS.",
            obj=slot,
            id="slate.E001",
        )
        for slot in _slots
        if not slot.registered
    ]
