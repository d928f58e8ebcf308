from datetime import timedelta

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tongban.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from tongban.core.periodic import register

        # Signs a Merkle root over every partition head (decision 0012); idempotent, any runner may run it.
        # (A dotted path: the key store and its crypto are imported only when the job runs.)
        register("audit.anchor", "tongban.audit.anchors.anchor_job",
                 every=timedelta(seconds=int(getattr(settings, "TONGBAN_AUDIT_ANCHOR_SECONDS", 60))))
