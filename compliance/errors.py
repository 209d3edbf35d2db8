from slate.errors import DomainError


class ComplianceError(DomainError):
    pass
