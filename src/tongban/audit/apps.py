from datetime import timedelta

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tongban.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.core.periodic import register

        from .anchors import anchor_interval_seconds

        # Signs a Merkle root over every partition head (decision 0012); idempotent, any runner may run it.
        register("audit.anchor", "tongban.audit.anchors.anchor_job",
                 every=timedelta(seconds=anchor_interval_seconds()))
