from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    label = "licences"
    default_auto_field = "django.db.models.BigAutoField"
