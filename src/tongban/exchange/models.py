"""Data-sharing exchange (数据共享交换): catalogue, grants, vocabulary, query log and demo registers.

- `DataResource` / `ResourceField`: the catalogue (资源目录) of what each owner department shares.
- `Grant`: deny by default; one consumer department, one resource, a subset of fields, a purpose, a period.
- `StandardField`, `FieldAlias`, `CodeList`, `CodeValue`, `CodeMapping`: the standard vocabulary that
  regional field names and code lists map to (data, edited in the admin).
- `QueryLog`: one row per query, granted or refused, naming both the consumer and the owner department,
  linked to its entry in the hash-chained audit trail.
- `PopulationRecord`, `LegalEntityRecord`, `SocialSecurityRecord`, `RealEstateRecord`: the demo registers
  (人口库, 法人库, 社保, 不动产) served by local adapters.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.codes import mask


class SharingType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NOT_SHARED = "not_shared", _("不予共享")


class SubjectKind(models.TextChoices):
    PERSON = "person", _("自然人（居民身份证号码）")
    ENTERPRISE = "enterprise", _("法人（统一社会信用代码）")
    ANY = "any", _("自然人或法人")


class Sensitivity(models.TextChoices):
    """Data grading (数据分级), lowest to highest."""

    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")
    SENSITIVE = "sensitive", _("敏感")
    HIGHLY_SENSITIVE = "highly_sensitive", _("高度敏感")


class FieldType(models.TextChoices):
    STRING = "string", _("字符串")
    INTEGER = "integer", _("整数")
    DECIMAL = "decimal", _("数值")
    DATE = "date", _("日期")
    CODE = "code", _("代码")


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    ON_CHANGE = "on_change", _("变更时")


# --- standard vocabulary -------------------------------------------------------------------------


class CodeList(models.Model):
    """A standard code list (标准代码集), e.g. social-security insurance status."""

    name = models.CharField(_("代码集标识"), max_length=64, unique=True)
    label = models.CharField(_("名称"), max_length=128)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标准代码集")
        verbose_name_plural = _("标准代码集")

    def __str__(self) -> str:
        return f"{self.label} ({self.name})"


class CodeValue(models.Model):
    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="values",
                                  verbose_name=_("标准代码集"))
    code = models.CharField(_("标准代码"), max_length=32)
    label = models.CharField(_("含义"), max_length=128)

    class Meta:
        ordering = ["code_list_id", "code"]
        verbose_name = _("标准代码值")
        verbose_name_plural = _("标准代码值")
        constraints = [models.UniqueConstraint(fields=["code_list", "code"], name="exchange_codevalue_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class StandardField(models.Model):
    """One name of the standard vocabulary (标准数据元), e.g. `enterprise.legal_representative.name`."""

    name = models.CharField(_("标准名称"), max_length=128, unique=True)
    label = models.CharField(_("中文名称"), max_length=128)
    label_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    type = models.CharField(_("数据类型"), max_length=16, choices=FieldType.choices, default=FieldType.STRING)
    code_list = models.ForeignKey(CodeList, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="standard_fields", verbose_name=_("标准代码集"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("标准数据元")
        verbose_name_plural = _("标准数据元")

    def __str__(self) -> str:
        return f"{self.label} ({self.name})"


class FieldAlias(models.Model):
    """A regional field name mapped to a standard name, e.g. 长沙 `fddbr` and 株洲 `frdb` -> 法定代表人.

    Without a region the alias applies everywhere; a region's own alias wins over its ancestors'.
    """

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="exchange_field_aliases", verbose_name=_("适用区划"))
    local_name = models.CharField(_("地方字段名"), max_length=128)
    standard = models.ForeignKey(StandardField, on_delete=models.CASCADE, related_name="aliases",
                                 verbose_name=_("标准数据元"))
    note = models.CharField(_("说明"), max_length=256, blank=True)

    class Meta:
        ordering = ["local_name", "region_id"]
        verbose_name = _("字段名映射")
        verbose_name_plural = _("字段名映射")
        constraints = [
            models.UniqueConstraint(fields=["region", "local_name"], name="exchange_fieldalias_unique"),
            models.UniqueConstraint(fields=["local_name"], condition=models.Q(region__isnull=True),
                                    name="exchange_fieldalias_unique_national"),
        ]

    def __str__(self) -> str:
        return f"{self.local_name} -> {self.standard.name}"


class CodeMapping(models.Model):
    """A regional code mapped to a standard code, e.g. 社保 status `1` -> `active` (正常参保)."""

    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="mappings",
                                  verbose_name=_("标准代码集"))
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="exchange_code_mappings", verbose_name=_("适用区划"))
    local_code = models.CharField(_("地方代码"), max_length=64)
    value = models.ForeignKey(CodeValue, on_delete=models.CASCADE, related_name="mappings",
                              verbose_name=_("标准代码值"))

    class Meta:
        ordering = ["code_list_id", "local_code"]
        verbose_name = _("代码映射")
        verbose_name_plural = _("代码映射")
        constraints = [
            models.UniqueConstraint(fields=["code_list", "region", "local_code"], name="exchange_codemapping_unique"),
            models.UniqueConstraint(fields=["code_list", "local_code"], condition=models.Q(region__isnull=True),
                                    name="exchange_codemapping_unique_national"),
        ]

    def __str__(self) -> str:
        return f"{self.local_code} -> {self.value.code}"


# --- catalogue --------------------------------------------------------------------------------------


class DataResource(models.Model):
    """A shared data resource (共享数据资源) in the catalogue."""

    code = models.SlugField(_("资源代码"), max_length=64, unique=True)
    name = models.CharField(_("资源名称"), max_length=128)
    owner = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="exchange_resources",
                              verbose_name=_("提供部门"))
    subject_kind = models.CharField(_("查询对象"), max_length=16, choices=SubjectKind.choices,
                                    default=SubjectKind.PERSON)
    sharing_type = models.CharField(_("共享类型"), max_length=16, choices=SharingType.choices)
    legal_basis = models.TextField(_("共享依据"), blank=True)
    not_shared_reason = models.TextField(_("不予共享理由"), blank=True)
    update_frequency = models.CharField(_("更新频率"), max_length=16, choices=UpdateFrequency.choices,
                                        default=UpdateFrequency.DAILY)
    adapter = models.CharField(_("适配器"), max_length=64, blank=True,
                               help_text=_("已注册的适配器名称，例如 population、legal_entities、http_json"))
    adapter_config = models.JSONField(_("适配器配置"), default=dict, blank=True,
                                      help_text=_("例如 HTTP 适配器的 url、timeout、retries、backoff"))
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("数据资源")
        verbose_name_plural = _("数据资源目录")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ResourceField(models.Model):
    """One field (数据项) of a resource, named as the owner's system names it."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="fields",
                                 verbose_name=_("数据资源"))
    name = models.CharField(_("字段名"), max_length=128)
    label = models.CharField(_("中文名称"), max_length=128)
    type = models.CharField(_("数据类型"), max_length=16, choices=FieldType.choices, default=FieldType.STRING)
    sensitivity = models.CharField(_("敏感级别"), max_length=20, choices=Sensitivity.choices,
                                   default=Sensitivity.INTERNAL)
    standard = models.ForeignKey(StandardField, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="resource_fields", verbose_name=_("标准数据元"),
                                 help_text=_("留空时按提供部门所在区划的字段名映射确定"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["resource_id", "position", "name"]
        verbose_name = _("数据项")
        verbose_name_plural = _("数据项")
        constraints = [models.UniqueConstraint(fields=["resource", "name"], name="exchange_resourcefield_unique")]

    def __str__(self) -> str:
        return f"{self.label} ({self.name})"


class Grant(models.Model):
    """Access of one consumer department to some fields of one resource, for a purpose and a period."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        GRANTED = "granted", _("已授权")
        DENIED = "denied", _("已拒绝")
        REVOKED = "revoked", _("已撤销")

    resource = models.ForeignKey(DataResource, on_delete=models.PROTECT, related_name="grants",
                                 verbose_name=_("数据资源"))
    consumer = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="exchange_grants",
                                 verbose_name=_("使用部门"))
    fields = models.ManyToManyField(ResourceField, related_name="grants", verbose_name=_("授权数据项"))
    purpose = models.TextField(_("使用目的"))
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.TextField(_("审批意见"), blank=True)
    revoked_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("撤销人"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        indexes = [models.Index(fields=["resource", "consumer", "status"], name="exchange_grant_lookup")]

    def __str__(self) -> str:
        return f"{self.consumer} -> {self.resource.code} ({self.get_status_display()})"

    def is_effective(self, at=None) -> bool:
        at = at or timezone.now()
        return self.status == self.Status.GRANTED and self.valid_from <= at < self.valid_until


class QueryLog(models.Model):
    """One data query (granted, refused or failed), seen by the consumer, the owner and the subject.

    Its twin in the hash-chained audit trail is the entry with object_type "exchange.query" and
    object_id = `ref`, written in the same transaction (so this table can be checked against the chain).
    """

    class Outcome(models.TextChoices):
        GRANTED = "granted", _("已提供")
        REFUSED = "refused", _("已拒绝")
        FAILED = "failed", _("数据源故障")

    ref = models.UUIDField(_("查询编号"), default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(_("查询时间"), default=timezone.now)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    rule = models.CharField(_("拒绝规则"), max_length=64, blank=True)
    message = models.TextField(_("说明"), blank=True)
    resource = models.ForeignKey(DataResource, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="queries", verbose_name=_("数据资源"))
    resource_code = models.CharField(_("资源代码"), max_length=64, blank=True)
    owner = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="exchange_queries_served", verbose_name=_("提供部门"))
    consumer = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="exchange_queries_made", verbose_name=_("使用部门"))
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, null=True, blank=True, related_name="queries",
                              verbose_name=_("依据授权"))
    subject_code = models.CharField(_("查询对象代码"), max_length=32, blank=True)
    subject_kind = models.CharField(_("查询对象类别"), max_length=16, blank=True)
    fields = models.JSONField(_("请求数据项"), default=list)
    returned_fields = models.JSONField(_("返回数据项"), default=list)
    purpose = models.TextField(_("查询目的"), blank=True)
    case_ref = models.CharField(_("办件编号"), max_length=64, blank=True)
    actor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="exchange_queries", verbose_name=_("经办人"))
    actor_label = models.CharField(_("经办人姓名"), max_length=128, blank=True)
    role = models.CharField(_("角色"), max_length=32, blank=True)
    region_code = models.CharField(_("区划"), max_length=6, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("查询日志")
        verbose_name_plural = _("查询日志")
        indexes = [
            models.Index(fields=["subject_code", "-at"], name="exchange_qlog_subject"),
            models.Index(fields=["consumer", "-at"], name="exchange_qlog_consumer"),
            models.Index(fields=["owner", "-at"], name="exchange_qlog_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.resource_code} {mask(self.subject_code)} {self.outcome}"


# --- demo registers (local tables served by the local adapters) -------------------------------------


class RegisterRow(models.Model):
    updated_at = models.DateTimeField(_("数据更新时间"), default=timezone.now)

    class Meta:
        abstract = True


class PopulationRecord(RegisterRow):
    """人口库: one resident per 居民身份证号码."""

    id_number = models.CharField(_("居民身份证号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    gender = models.CharField(_("性别"), max_length=4, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=16, blank=True)
    address = models.CharField(_("户籍地址"), max_length=256, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    region_code = models.CharField(_("户籍区划"), max_length=6, blank=True)

    class Meta:
        ordering = ["id_number"]
        verbose_name = _("人口库记录")
        verbose_name_plural = _("人口库")

    def __str__(self) -> str:
        return f"{self.name} {mask(self.id_number)}"


class LegalEntityRecord(RegisterRow):
    """法人库: one registered market entity per 统一社会信用代码."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    legal_representative = models.CharField(_("法定代表人"), max_length=64)
    legal_representative_id_number = models.CharField(_("法定代表人身份证号码"), max_length=18, blank=True)
    address = models.CharField(_("住所"), max_length=256, blank=True)
    registered_capital = models.DecimalField(_("注册资本（万元）"), max_digits=14, decimal_places=2, null=True,
                                             blank=True)
    entity_type = models.CharField(_("企业类型"), max_length=64, blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    status = models.CharField(_("登记状态"), max_length=16, blank=True)
    region_code = models.CharField(_("登记区划"), max_length=6, blank=True)

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("法人库记录")
        verbose_name_plural = _("法人库")

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class SocialSecurityRecord(RegisterRow):
    """社保: insurance status per person; `status` is the regional code (mapped by the vocabulary)."""

    id_number = models.CharField(_("居民身份证号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    status = models.CharField(_("参保状态（地方代码）"), max_length=8)
    insured_since = models.DateField(_("参保日期"), null=True, blank=True)
    employer_uscc = models.CharField(_("参保单位统一社会信用代码"), max_length=18, blank=True)
    employer_name = models.CharField(_("参保单位"), max_length=128, blank=True)
    region_code = models.CharField(_("参保地区划"), max_length=6, blank=True)

    class Meta:
        ordering = ["id_number"]
        verbose_name = _("社保记录")
        verbose_name_plural = _("社保库")

    def __str__(self) -> str:
        return f"{self.name} {mask(self.id_number)}"


class RealEstateRecord(RegisterRow):
    """不动产: one certificate per row; the owner is a person (ID number) or an enterprise (USCC)."""

    certificate_number = models.CharField(_("不动产权证书号"), max_length=64, unique=True)
    owner_code = models.CharField(_("权利人证件号码"), max_length=18, db_index=True)
    owner_name = models.CharField(_("权利人"), max_length=128)
    address = models.CharField(_("坐落"), max_length=256)
    area = models.DecimalField(_("建筑面积（平方米）"), max_digits=10, decimal_places=2)
    usage = models.CharField(_("用途"), max_length=32, blank=True)
    registered_on = models.DateField(_("登记日期"))
    region_code = models.CharField(_("区划"), max_length=6, blank=True)

    class Meta:
        ordering = ["owner_code", "-registered_on"]
        verbose_name = _("不动产登记记录")
        verbose_name_plural = _("不动产登记库")

    def __str__(self) -> str:
        return self.certificate_number
