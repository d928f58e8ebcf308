"""Regions (GB/T 2260), departments (implementing bodies), service halls and their windows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级区划"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestors(self) -> list[Region]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def lineage_codes(self) -> list[str]:
        """This region's code and all its ancestors' codes (for region-scoped rules)."""
        return [self.code, *(r.code for r in self.ancestors())]


class Department(models.Model):
    """An implementing body (实施主体) with its 统一社会信用代码."""

    class Kind(models.TextChoices):
        GOVERNMENT_SERVICES = "government_services", _("政务服务和大数据管理")
        MARKET_REGULATION = "market_regulation", _("市场监督管理")
        PUBLIC_SECURITY = "public_security", _("公安")
        FIRE_RESCUE = "fire_rescue", _("消防救援")
        HOUSING_CONSTRUCTION = "housing_construction", _("住房和城乡建设")
        ECOLOGY_ENVIRONMENT = "ecology_environment", _("生态环境")
        URBAN_MANAGEMENT = "urban_management", _("城市管理")
        HEALTH = "health", _("卫生健康")
        HUMAN_RESOURCES = "human_resources", _("人力资源和社会保障")
        CIVIL_AFFAIRS = "civil_affairs", _("民政")
        TAX = "tax", _("税务")
        NATURAL_RESOURCES = "natural_resources", _("自然资源和规划")
        HOUSING_FUND = "housing_fund", _("住房公积金")
        MEDICAL_SECURITY = "medical_security", _("医疗保障")
        UTILITY = "utility", _("公用事业")
        OTHER = "other", _("其他")

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类别"), max_length=32, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("所属区划"))

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="department_unique_name_in_region")]

    def __str__(self) -> str:
        return self.name


class ServiceHall(models.Model):
    """A government service centre (政务服务中心) with comprehensive windows."""

    code = models.CharField(_("编号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="halls", verbose_name=_("所属区划"))
    address = models.CharField(_("地址"), max_length=256, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政务服务中心")
        verbose_name_plural = _("政务服务中心")

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    """A window of a hall; comprehensive windows (综合窗口) accept any item (无差别受理)."""

    hall = models.ForeignKey(ServiceHall, on_delete=models.CASCADE, related_name="windows", verbose_name=_("政务服务中心"))
    number = models.CharField(_("窗口号"), max_length=16)
    name = models.CharField(_("名称"), max_length=64)
    comprehensive = models.BooleanField(_("综合窗口"), default=True)
    categories = models.CharField(_("业务类别"), max_length=128, blank=True,
                                  help_text=_("叫号业务类别，逗号分隔，例如 enterprise,personal"))

    class Meta:
        ordering = ["hall_id", "number"]
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="window_unique_number_in_hall")]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number}"
