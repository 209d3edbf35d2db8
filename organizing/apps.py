from django.apps import AppConfig


class OrganizingConfig(AppConfig):
    name = "organizing"
    verbose_name = "Organizer and partner pages"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the slate event receivers)
