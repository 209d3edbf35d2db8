from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (receipts after captures and refunds)
        from .policies import register

        # Pledge intake and the capture split ask compliance through these (they sit below).
        register()
