from datetime import timedelta

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tongban.cases"
    label = "cases"
    verbose_name = "办件"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.core.periodic import register
        from tongban.workdays.listeners import register_calendar_listener

        from . import access  # noqa: F401  (registers the access rules)
        from .services.remote import on_decision  # noqa: F401  (registers the remote sub-cases' federation handlers)

        register_calendar_listener("tongban.cases.services.recompute_open_deadlines")
        # Warnings, overdue records, deemed acceptances and broken 容缺 promises: idempotent, so any
        # number of runners may share it (see tongban.core.periodic).
        register("cases.sweep", "tongban.cases.services.sweep", every=timedelta(minutes=10))
