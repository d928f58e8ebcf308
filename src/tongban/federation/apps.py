from datetime import timedelta

from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "tongban.federation"
    label = "federation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.core.periodic import register

        # A safety net beside `tongban federation deliver` (the dedicated loop): drains what is due,
        # a no-op on a deployment that is not a federation node.
        register("federation.deliver", "tongban.federation.outbox.deliver_due", every=timedelta(minutes=1))

        from tongban.licences.trust import trust_list_published

        from . import (
            handlers,  # noqa: F401 - registers the message handlers
            handling,
        )
        from .trustlists import forward_published

        trust_list_published.connect(forward_published, dispatch_uid="federation.forward_trust_list")
        handling.connect()  # the case services' hook points (cases.signals)
