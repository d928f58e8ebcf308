"""Staff roles, once: the names of the Django groups that carry them, and the sets the access rules use.

Code says `Role.CLERK`, never "clerk": a typo is then an AttributeError at import, not a silent
"nobody has this role". `User.has_role` takes a `Role`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLERK = "clerk", _("综合窗口人员")
    OFFICER = "officer", _("审批人员")
    SUPERVISOR = "supervisor", _("效能监督人员")
    ADMINISTRATOR = "administrator", _("管理员")
    AUDITOR = "auditor", _("审计人员")


# Roles whose read scope is a region and everything below it (not a department or a hall).
REGIONAL_ROLES = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)
# The order in which a staff member's role is named in the trail when they hold several.
TRAIL_ORDER = (Role.CLERK, Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AUDITOR)

# Trail roles that are not staff roles: an applicant (or agent), a department's system (bearer token),
# and the platform itself (sweeps; see tongban.core.system).
APPLICANT = "applicant"
DEPARTMENT_SYSTEM = "department-system"
SYSTEM = "system"
