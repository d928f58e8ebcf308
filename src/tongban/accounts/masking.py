"""Personal numbers (居民身份证号码, phone numbers) shown in full only to those whose role needs them.

`masked_for(viewer, value, department=None)` returns the value unmasked for:
- an auditor (审计人员);
- an officer (审批人员) of the handling department, when `department` (the department handling the
  case the number belongs to) is given and is the officer's own;
- the person the number belongs to (their own ID number or phone).
Everyone else (other staff, other applicants, anonymous viewers, logs and exports made without a
viewer) gets the masked form from tongban.core.codes.mask. Templates: `{{ value|masked_for:viewer }}`
or `{% masked value viewer department %}` from `{% load identity %}`.
"""

from __future__ import annotations

from tongban.core.codes import mask

from .models import Role, User


def may_see_full(viewer, value: str = "", department=None) -> bool:
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return False
    if value and value in (viewer.id_number, viewer.phone):
        return True
    if viewer.kind != User.Kind.STAFF:
        return False
    if viewer.has_role(Role.AUDITOR):
        return True
    if department is not None and viewer.has_role(Role.OFFICER):
        department_id = getattr(department, "pk", department)
        return viewer.department_id is not None and viewer.department_id == department_id
    return False


def masked_for(viewer, value, department=None) -> str:
    value = "" if value is None else str(value)
    return value if may_see_full(viewer, value, department) else mask(value)
