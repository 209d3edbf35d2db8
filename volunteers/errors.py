from slate.errors import DomainError


class VolunteerError(DomainError):
    pass
