from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "tongban.federation"
    label = "federation"
    default_auto_field = "django.db.models.BigAutoField"
