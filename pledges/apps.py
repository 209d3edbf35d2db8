from django.apps import AppConfig


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = "Pledges"

    def ready(self) -> None:
        # Declares the slot compliance fills at startup (``manage.py check`` sees it empty).
        from . import (
            intake_policy,  # noqa: F401
            receivers,  # noqa: F401  (connects the slate event receivers)
        )
