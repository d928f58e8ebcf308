from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tongban.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import access  # noqa: F401  (registers the mandate access rules)
