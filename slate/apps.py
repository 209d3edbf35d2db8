from django.apps import AppConfig


class SlateConfig(AppConfig):
    name = "slate"
    verbose_name = "Slates"
