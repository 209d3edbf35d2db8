from django.apps import AppConfig


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = "Pledges"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the slate event receivers)
