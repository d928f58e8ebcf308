from datetime import timedelta

from django.apps import AppConfig


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    label = "licences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.core.periodic import register

        # Re-sign status and trust lists past half their validity (as `tongban licence refresh` does);
        # a list nobody refreshes goes stale and every verifier then fails closed.
        register("licences.refresh_status_lists", "tongban.licences.services.refresh_status_lists",
                 every=timedelta(minutes=10))
        register("licences.refresh_trust_lists", "tongban.licences.trust.refresh_trust_lists",
                 every=timedelta(minutes=10))
