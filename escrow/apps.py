from django.apps import AppConfig


class EscrowConfig(AppConfig):
    name = "escrow"
    verbose_name = "Escrow"

    def ready(self) -> None:
        # Declares the slot compliance fills at startup (``manage.py check`` sees it empty).
        from . import (
            capture_policy,  # noqa: F401
            receivers,  # noqa: F401  (connects the slate event receivers)
        )
