"""The standard item catalogue (事项库), per GB/T 39046-2020.

- `LicenceType`: the kind of result a licensing item issues (code per GB/T 36903: defining body's USCC + 3 digits).
- `MaterialKind`: the shared vocabulary of materials ("business-licence", "id-card" ...). A material that is an
  electronic licence points at its licence type, so bundles can dedupe it, take it from an earlier item's
  result (produced) or from the licence library (免证办), or fetch it from a data resource.
- `Item`: one region's implementation of a standard item: basic code (12) + implementation code (31),
  implementing department. Content lives in `ItemVersion`s: drafts are edited; a published version is
  immutable and in force from `valid_from` until a later published version's `valid_from`.
- `ItemMaterial`: the materials list of a version (name, originals/copies, required or conditional ...).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.codes import ITEM_TYPES


class LicenceType(models.Model):
    class HolderKind(models.TextChoices):
        PERSON = "111", _("自然人（居民身份证号码）")
        ORGANISATION = "001", _("法人（统一社会信用代码）")

    code = models.CharField(_("证照类型代码"), max_length=21, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    holder_kind = models.CharField(_("持证主体代码类型"), max_length=3, choices=HolderKind.choices)
    validity_years = models.PositiveSmallIntegerField(_("有效期（年）"), null=True, blank=True,
                                                      help_text=_("留空表示长期有效"))
    fields = models.JSONField(_("证照字段"), default=list, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")

    def __str__(self) -> str:
        return self.name


class MaterialKind(models.Model):
    code = models.SlugField(_("材料编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="materials", verbose_name=_("对应电子证照类型"))
    data_resource = models.CharField(_("可共享获取的数据资源"), max_length=64, blank=True)
    description = models.CharField(_("说明"), max_length=256, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("材料目录")
        verbose_name_plural = _("材料目录")

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    basic_code = models.CharField(_("基本编码"), max_length=12, db_index=True)
    implementation_code = models.CharField(_("实施编码"), max_length=31, unique=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="items",
                               verbose_name=_("实施区划"))
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="items",
                                   verbose_name=_("实施主体"))
    name = models.CharField(_("事项名称"), max_length=128)

    class Meta:
        ordering = ["region_id", "basic_code"]
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        constraints = [models.UniqueConstraint(fields=["region", "basic_code"], name="item_unique_basic_code_in_region")]

    def __str__(self) -> str:
        return f"{self.name} [{self.region_id}]"


class ItemVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    class CrossRegionScope(models.TextChoices):
        NONE = "none", _("不通办")
        LISTED = "listed", _("指定区域通办")
        PROVINCE = "province", _("全省通办")
        NATIONAL = "national", _("全国通办")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions", verbose_name=_("事项"))
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    name = models.CharField(_("事项名称"), max_length=128)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=[(k, v[0]) for k, v in ITEM_TYPES.items()])
    legal_basis = models.TextField(_("设定依据"), blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"))
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    notice_days = models.PositiveSmallIntegerField(
        _("一次性告知期限（工作日）"), default=5,
        help_text=_("行政许可法第三十二条：五日内一次告知，逾期不告知的自收到材料之日起即为受理"))
    handling_forms = models.JSONField(_("办理形式"), default=list, blank=True)
    visits = models.PositiveSmallIntegerField(_("到办事现场次数"), default=1)
    fee = models.CharField(_("收费标准"), max_length=128, default="不收费", blank=True)
    acceptance_conditions = models.TextField(_("受理条件"), blank=True)
    result_name = models.CharField(_("办理结果名称"), max_length=128, blank=True)
    result_licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, null=True, blank=True,
                                            related_name="issuing_item_versions", verbose_name=_("结果证照类型"))
    cross_region_scope = models.CharField(_("通办范围"), max_length=16, choices=CrossRegionScope.choices,
                                          default=CrossRegionScope.NONE)
    cross_region_regions = models.JSONField(_("通办区域"), default=list, blank=True)
    form_fields = models.JSONField(_("申请表字段"), default=list, blank=True)

    class Meta:
        ordering = ["item_id", "version"]
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="itemversion_unique_version"),
            models.CheckConstraint(condition=models.Q(status="draft") | models.Q(valid_from__isnull=False),
                                   name="itemversion_published_has_valid_from"),
        ]
        indexes = [models.Index(fields=["item", "status", "valid_from"], name="itemversion_in_force")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ItemMaterial(models.Model):
    class Requirement(models.TextChoices):
        REQUIRED = "required", _("必要")
        CONDITIONAL = "conditional", _("容缺/条件性")

    item_version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials",
                                     verbose_name=_("事项版本"))
    kind = models.ForeignKey(MaterialKind, on_delete=models.PROTECT, related_name="item_uses", verbose_name=_("材料"))
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    requirement = models.CharField(_("必要性"), max_length=16, choices=Requirement.choices,
                                   default=Requirement.REQUIRED)
    condition = models.CharField(_("适用情形"), max_length=256, blank=True)
    originals = models.PositiveSmallIntegerField(_("原件份数"), default=0)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=1)
    issuing_body = models.CharField(_("出具单位"), max_length=128, blank=True)
    commitment_allowed = models.BooleanField(_("可告知承诺"), default=False)
    minor = models.BooleanField(_("可容缺受理"), default=False)
    notes = models.CharField(_("备注"), max_length=256, blank=True)

    class Meta:
        ordering = ["item_version_id", "position"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        constraints = [models.UniqueConstraint(fields=["item_version", "kind"], name="itemmaterial_unique_kind")]

    def __str__(self) -> str:
        return self.kind.name
