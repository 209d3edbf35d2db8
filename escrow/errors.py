"""The escrow app's refusals."""

from slate.errors import DomainError


class EscrowError(DomainError):
    pass


class NothingCapturable(EscrowError):
    """The donor's contribution limits leave nothing of this pledge to take."""
