"""People and organisations that use the platform.

One user table for applicants and staff (`kind`), because the same login system, session and audit
actor serve both. Staff carry their department, region and hall; their roles are Django groups named
by `Role` so administrators manage them in the admin. Enterprises are legal persons (法人) identified
by their 统一社会信用代码; people act for them as legal representative or under a mandate (issue 7).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.codes import mask


class Role(models.TextChoices):
    CLERK = "clerk", _("综合窗口人员")
    OFFICER = "officer", _("审批人员")
    SUPERVISOR = "supervisor", _("效能监督人员")
    ADMINISTRATOR = "administrator", _("管理员")
    AUDITOR = "auditor", _("审计人员")


class User(AbstractUser):
    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        STAFF = "staff", _("工作人员")
        SYSTEM = "system", _("系统")

    kind = models.CharField(_("用户类别"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    real_name = models.CharField(_("姓名"), max_length=64, blank=True)
    id_number = models.CharField(_("居民身份证号码"), max_length=18, blank=True, db_index=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="users", verbose_name=_("所属区划"))
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="staff", verbose_name=_("所属部门"))
    hall = models.ForeignKey("regions.ServiceHall", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="staff", verbose_name=_("所属政务服务中心"))

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(fields=["id_number"], condition=~models.Q(id_number=""),
                                    name="user_unique_id_number"),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def masked_id_number(self) -> str:
        return mask(self.id_number)

    def role_codes(self) -> set[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = set(self.groups.values_list("name", flat=True)) & set(Role.values)
            self._role_codes = cached
        return cached

    def has_role(self, role: str) -> bool:
        return role in self.role_codes()


class Enterprise(models.Model):
    """A legal person (法人) applicant."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    legal_representative = models.ForeignKey(User, on_delete=models.PROTECT, related_name="represented_enterprises",
                                             verbose_name=_("法定代表人"))
    address = models.CharField(_("住所"), max_length=256, blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="enterprises",
                               verbose_name=_("登记区划"))

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name
