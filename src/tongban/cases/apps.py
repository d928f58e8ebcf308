from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tongban.cases"
    label = "cases"
    verbose_name = "办件"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.workdays.listeners import register_calendar_listener

        from . import access  # noqa: F401  (registers the access rules)
        from .services import recompute_open_deadlines

        register_calendar_listener(recompute_open_deadlines)
