from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "tongban.workdays"
    label = "workdays"
    default_auto_field = "django.db.models.BigAutoField"
