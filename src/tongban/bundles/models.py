"""One-thing bundles (一件事): a life or business event composed of standard items.

A bundle version stores its definition as validated JSON in the catalogue file format
(questionnaire, items with inclusion rules, field mapping): the planner reads it together with the
region's item versions in force. Published versions are immutable, like item versions.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Bundle(models.Model):
    class Theme(models.TextChoices):
        PERSONAL = "personal", _("个人")
        ENTERPRISE = "enterprise", _("法人")

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    theme = models.CharField(_("主题"), max_length=16, choices=Theme.choices)
    description = models.TextField(_("说明"), blank=True)
    keywords = models.JSONField(_("检索关键词"), default=list, blank=True,
                                help_text=_("智能导办用的同义词与口语说法，例如 火锅店、小餐馆"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return self.name


class BundleVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="versions", verbose_name=_("一件事"))
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    regions = models.ManyToManyField("regions.Region", related_name="bundle_versions", verbose_name=_("适用区划"))
    definition = models.JSONField(_("定义"))

    class Meta:
        ordering = ["bundle_id", "version"]
        verbose_name = _("一件事版本")
        verbose_name_plural = _("一件事版本")
        constraints = [models.UniqueConstraint(fields=["bundle", "version"], name="bundleversion_unique_version")]

    def __str__(self) -> str:
        return f"{self.bundle.name} v{self.version}"
