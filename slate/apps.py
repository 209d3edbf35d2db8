from django.apps import AppConfig


class SlateConfig(AppConfig):
    name = "slate"
    verbose_name = "Slates"

    def ready(self):
        from . import mail_events  # noqa: F401  (connects the mail provider's tracking receiver)
