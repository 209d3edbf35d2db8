from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and security"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
