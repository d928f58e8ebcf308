"""The electronic licence library (电子证照库).

- `LicenceTypeIssuer`: which department may issue which licence type.
- `SerialCounter`: the last serial per (type, issuer), row-locked when a serial is reserved.
- `SigningKey`: a department's (licences, status lists) or a region's (trust lists) key pair; the
  private half is encrypted at rest and never leaves `keystore`.
- `Licence`: one version of a licence with its signed canonical payload; a change makes a new row.
- `StatusList`: one published W3C Bitstring Status List per issuer (revocation + suspension bits).
- `TrustList` / `TrustedIssuer` / `TrustRecognition`: a region's trusted issuers, published and
  signed with an expiry; a region recognising another region's list (跨域互认).
- `UseAuthorisation` / `LicenceUse`: one-time authorisations (授权用证) and the log of every use.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto


class LicenceTypeIssuer(models.Model):
    licence_type = models.ForeignKey("catalog.LicenceType", on_delete=models.CASCADE, related_name="issuers",
                                     verbose_name=_("证照类型"))
    department = models.ForeignKey("regions.Department", on_delete=models.CASCADE,
                                   related_name="issuable_licence_types", verbose_name=_("发证部门"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("证照颁发授权")
        verbose_name_plural = _("证照颁发授权")
        constraints = [models.UniqueConstraint(fields=["licence_type", "department"], name="licence_issuer_unique")]

    def __str__(self) -> str:
        return f"{self.department} → {self.licence_type}"


class SerialCounter(models.Model):
    licence_type = models.ForeignKey("catalog.LicenceType", on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey("regions.Department", on_delete=models.CASCADE, related_name="+")
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("证照流水号")
        verbose_name_plural = _("证照流水号")
        constraints = [models.UniqueConstraint(fields=["licence_type", "issuer"], name="licence_serial_unique")]

    def __str__(self) -> str:
        return f"{self.licence_type_id}/{self.issuer_id}: {self.last_serial}"


class SigningKey(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("签名中")
        RETIRED = "retired", _("已轮换（仅用于验证）")
        REVOKED = "revoked", _("已吊销（不再可信）")

    key_id = models.CharField(_("密钥标识"), max_length=64, unique=True)
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="licence_keys", verbose_name=_("所属部门"))
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="licence_keys", verbose_name=_("所属区划（信任列表签名）"))
    algorithm = models.CharField(_("算法"), max_length=16,
                                 choices=[(crypto.ED25519, "Ed25519"), (crypto.SM2_SM3, "SM2 / SM3")])
    public_key = models.TextField(_("公钥（SPKI DER，base64url）"))
    encrypted_private_key = models.TextField(_("加密私钥"), editable=False)
    kek_fingerprint = models.CharField(_("密钥加密密钥指纹"), max_length=16, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateTimeField(_("启用时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("停止签名时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        constraints = [
            models.CheckConstraint(condition=Q(department__isnull=True) ^ Q(region__isnull=True),
                                   name="signingkey_one_owner"),
            models.UniqueConstraint(fields=["department"], condition=Q(status="active", department__isnull=False),
                                    name="signingkey_one_active_per_department"),
            models.UniqueConstraint(fields=["region"], condition=Q(status="active", region__isnull=False),
                                    name="signingkey_one_active_per_region"),
        ]

    def __str__(self) -> str:
        return self.key_id

    def public_entry(self) -> dict:
        """What a trust list says about this key (never any private material)."""
        return {
            "kid": self.key_id,
            "alg": self.algorithm,
            "public_key": self.public_key,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "status": self.status,
        }


class StatusList(models.Model):
    issuer = models.OneToOneField("regions.Department", on_delete=models.PROTECT, related_name="licence_status_list",
                                  verbose_name=_("发证部门"))
    size = models.PositiveIntegerField(_("位数"), default=131072)
    next_index = models.PositiveIntegerField(_("下一个索引"), default=0)
    revocation = models.TextField(_("注销位串"), editable=False)
    suspension = models.TextField(_("中止位串"), editable=False)
    revision = models.PositiveIntegerField(_("修订号"), default=0)
    published_at = models.DateTimeField(_("发布时间"))
    valid_until = models.DateTimeField(_("有效期至"))
    key_id = models.CharField(_("签名密钥"), max_length=64, editable=False)
    signature = models.TextField(_("签名"), editable=False)

    class Meta:
        verbose_name = _("证照状态列表")
        verbose_name_plural = _("证照状态列表")

    def __str__(self) -> str:
        return f"{self.issuer} r{self.revision}"


class Licence(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUSPENDED = "suspended", _("已中止")
        REVOKED = "revoked", _("已注销")

    class HolderCodeType(models.TextChoices):
        ID_NUMBER = "111", _("居民身份证号码")
        USCC = "001", _("统一社会信用代码")

    identifier = models.CharField(_("证照标识"), max_length=80, unique=True)
    licence_type = models.ForeignKey("catalog.LicenceType", on_delete=models.PROTECT, related_name="licences",
                                     verbose_name=_("证照类型"))
    issuer = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="issued_licences",
                               verbose_name=_("发证部门"))
    serial = models.PositiveIntegerField(_("流水号"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    holder_code_type = models.CharField(_("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices)
    holder_code = models.CharField(_("持证主体代码"), max_length=18)
    holder_name = models.CharField(_("持证主体名称"), max_length=128)
    data = models.JSONField(_("照面信息"), default=dict)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"), null=True, blank=True, help_text=_("留空表示长期有效"))
    issued_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField(_("状态变更原因"), max_length=256, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    status_index = models.PositiveIntegerField(_("状态列表索引"))
    previous = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="next_version", verbose_name=_("上一版本"))
    source_ref = models.CharField(_("来源（办件编号）"), max_length=64, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("签发人"))
    payload = models.TextField(_("签名内容（规范化 JSON）"), editable=False)
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="licences",
                                    verbose_name=_("签名密钥"), editable=False)
    signature = models.TextField(_("签名值"), editable=False)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        constraints = [
            models.UniqueConstraint(fields=["licence_type", "issuer", "serial", "version"], name="licence_unique_version"),
            models.UniqueConstraint(fields=["issuer", "status_index"], name="licence_unique_status_index"),
        ]
        indexes = [models.Index(fields=["holder_code", "holder_code_type"], name="licence_holder")]

    def __str__(self) -> str:
        return self.identifier


class TrustList(models.Model):
    region = models.OneToOneField("regions.Region", on_delete=models.PROTECT, related_name="licence_trust_list",
                                  verbose_name=_("区划"))
    sequence = models.PositiveIntegerField(_("序号"), default=0)
    issued_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    next_update = models.DateTimeField(_("下次更新（过期时间）"), null=True, blank=True)
    document = models.TextField(_("已发布的签名文档"), blank=True, editable=False)

    class Meta:
        verbose_name = _("信任列表")
        verbose_name_plural = _("信任列表")

    def __str__(self) -> str:
        return f"{self.region} #{self.sequence}"


class TrustedIssuer(models.Model):
    trust_list = models.ForeignKey(TrustList, on_delete=models.CASCADE, related_name="entries",
                                   verbose_name=_("信任列表"))
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("发证部门"))
    added_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("可信发证部门")
        verbose_name_plural = _("可信发证部门")
        constraints = [models.UniqueConstraint(fields=["trust_list", "department"], name="trusted_issuer_unique")]

    def __str__(self) -> str:
        return str(self.department)


class TrustRecognition(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="licence_recognitions",
                               verbose_name=_("认可方区划"))
    recognised = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="licence_recognised_by",
                                   verbose_name=_("被认可区划"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("操作人"))

    class Meta:
        verbose_name = _("跨域互认")
        verbose_name_plural = _("跨域互认")
        constraints = [
            models.UniqueConstraint(fields=["region", "recognised"], name="trust_recognition_unique"),
            models.CheckConstraint(condition=~Q(region=models.F("recognised")), name="trust_recognition_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} → {self.recognised_id}"


class UseAuthorisation(models.Model):
    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="authorisations",
                                verbose_name=_("电子证照"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("授权人"))
    item_basic_code = models.CharField(_("事项基本编码"), max_length=12)
    case_ref = models.CharField(_("办件编号"), max_length=64)
    code_digest = models.CharField(_("授权码摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    consumed_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    consumed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("使用人"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("用证授权")
        verbose_name_plural = _("用证授权")

    def __str__(self) -> str:
        return f"{self.licence_id} / {self.case_ref}"


class LicenceUse(models.Model):
    class Kind(models.TextChoices):
        AUTHORISED = "authorised", _("授权用证")
        SHOWN = "shown", _("亮证核验")
        CASE = "case", _("办件免证使用")

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="uses", verbose_name=_("电子证照"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("使用人"))
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("使用部门"))
    item_basic_code = models.CharField(_("事项基本编码"), max_length=12, blank=True)
    case_ref = models.CharField(_("办件编号"), max_length=64, blank=True)
    reason = models.CharField(_("用途"), max_length=256)
    authorisation = models.OneToOneField(UseAuthorisation, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="use", verbose_name=_("用证授权"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        indexes = [models.Index(fields=["licence", "-at"], name="licence_use_by_licence")]

    def __str__(self) -> str:
        return f"{self.licence_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
