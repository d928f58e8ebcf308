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

from .roles import Role


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

    def has_role(self, role: Role) -> bool:
        if not isinstance(role, Role):
            raise TypeError(f"has_role takes a Role, not {role!r}")
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


class Mandate(models.Model):
    """A mandate (委托代办): an enterprise authorises a person to act for it.

    Scope is every item (`all_items`) or a list of item basic codes (基本编码, 12 digits). Valid from
    `valid_from` to `valid_until` inclusive (local dates). A mandate allowing sub-delegation lets its
    agent grant a child mandate (`parent`) within its own scope and period; revoking a mandate revokes
    its whole subtree. Rows are never deleted: revocation sets `revoked_at`, `revoked_by` and `revoke_reason`.
    """

    principal = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="mandates",
                                  verbose_name=_("委托企业"))
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="mandates_held", verbose_name=_("受托人"))
    all_items = models.BooleanField(_("全部事项"), default=False)
    item_codes = models.JSONField(_("事项基本编码"), default=list, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("截止日期"))
    allow_subdelegation = models.BooleanField(_("允许转委托"), default=False)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级委托"))
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="mandates_granted",
                                   verbose_name=_("委托人"))
    granted_at = models.DateTimeField(_("委托时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="mandates_revoked", verbose_name=_("撤销人"))
    revoke_reason = models.CharField(_("撤销原因"), max_length=256, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("委托代办")
        verbose_name_plural = _("委托代办")
        indexes = [models.Index(fields=["agent", "principal"], name="mandate_agent_principal")]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")),
                                   name="mandate_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} → {self.agent}"

    def is_valid_on(self, day) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_until

    def covers(self, basic_code: str | None) -> bool:
        return basic_code is None or self.all_items or basic_code in (self.item_codes or [])


class SystemClient(models.Model):
    """A department's information system allowed to call the API with OAuth2 client credentials.

    The OAuth2 application is bound to one department; tokens it obtains act as `user`, a system user
    (kind "system") of that department, and may carry only the scopes listed here.
    """

    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE,
                                       related_name="system_client", verbose_name=_("OAuth2 应用"))
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="system_clients",
                                   verbose_name=_("所属部门"))
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="system_client",
                                verbose_name=_("系统用户"))
    scopes = models.JSONField(_("允许的权限范围"), default=list)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("部门系统接入")
        verbose_name_plural = _("部门系统接入")

    def __str__(self) -> str:
        return f"{self.department} · {self.application.name}"


class SignOnParty(models.Model):
    """The party a user chose ("acting as") when signing in to a relying party through OIDC.

    Recorded with the authorisation code, linked to the access token it is exchanged for, and
    re-checked whenever claims are issued (a revoked mandate falls back to the person).
    """

    grant_code = models.CharField(max_length=255, unique=True)
    access_token = models.OneToOneField("oauth2_provider.AccessToken", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="sign_on_party")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    party_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("单点登录办理身份")
        verbose_name_plural = _("单点登录办理身份")

    def __str__(self) -> str:
        return f"{self.user} · {self.party_key}"
