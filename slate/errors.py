class DomainError(Exception):
    """A refused request: ``code`` for programs, ``message`` for people, ``field`` for forms.

    Services raise it before writing anything (or inside the transaction they roll back),
    so a refused request never leaves a half-written record.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"


class SlateError(DomainError):
    pass
