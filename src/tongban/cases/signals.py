"""Hook points of the case services for other apps (federation: a case handled for a peer node tells
the accepting node). Sent INSIDE the service's transaction, after the change is written: a receiver
that writes (an outbox message) commits or rolls back with the change. Receivers must not do network
I/O (docs/decisions/0008-lock-rule.md)."""

from __future__ import annotations

from django.dispatch import Signal

# An officer's workflow action on a sub-case (cases.services.act), after it was applied and trailed:
# kwargs subcase, case, action, step_from, status_from, reason, materials, on, actor.
subcase_acted = Signal()

# The sweep recorded a deadline alert (once per sub-case, kind and due date): kwargs alert, subcase.
deadline_alert_raised = Signal()
