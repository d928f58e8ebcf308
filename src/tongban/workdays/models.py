"""Working-day calendar data kept in the database, on top of the `chinese_calendar` package.

- `CalendarYear`: a year whose State Council notice (国务院办公厅关于部分节假日安排的通知) has been loaded.
  A loaded year counts as covered even when the package does not know it.
- `CalendarOverride`: one day declared a holiday or an (adjusted) working day, nationwide
  (`region` empty: from a loaded notice or a correction) or for one region and its descendants
  (a local closure). Database data wins over the package.
- `CalendarState`: one row whose token changes on every write, so other processes notice cheaply
  that their in-process calendar cache is stale (see docs/decisions/0002-workday-calendar-cache.md).

Writes go through `tongban.workdays.services` only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("依据文件"), max_length=200, help_text=_("例如 国办发明电〔2026〕X号"))
    file_sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    loaded_at = models.DateTimeField(_("导入时间"))
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("导入人"))

    class Meta:
        ordering = ["-year"]
        verbose_name = _("已导入年度节假日安排")
        verbose_name_plural = _("已导入年度节假日安排")

    def __str__(self) -> str:
        return f"{self.year} ({self.source})"


class CalendarOverride(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("上班")

    date = models.DateField(_("日期"))
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="calendar_overrides", verbose_name=_("适用区划"),
                               help_text=_("留空表示全国；填写则适用于该区划及其下级区划"))
    name = models.CharField(_("名称"), max_length=64, help_text=_("例如 国庆节、春节调休、台风停工"))
    source = models.CharField(_("依据"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["date", "region_id"]
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        constraints = [
            models.UniqueConstraint(fields=["date"], condition=Q(region__isnull=True),
                                    name="workdays_override_one_national_per_date",
                                    violation_error_message=_("该日期在全国已有调整 / this date already has a "
                                                              "nationwide override")),
            models.UniqueConstraint(fields=["date", "region"], condition=Q(region__isnull=False),
                                    name="workdays_override_one_per_region_and_date",
                                    violation_error_message=_("该日期在该区划已有调整 / this date already has an "
                                                              "override for this region")),
        ]
        indexes = [models.Index(fields=["date"], name="workdays_override_date")]

    def __str__(self) -> str:
        where = self.region_id or _("全国")
        return f"{self.date} {self.get_kind_display()} {self.name} ({where})"


class CalendarState(models.Model):
    """A single row (pk 1); `token` changes with every calendar write, in the same transaction."""

    token = models.UUIDField(_("版本标识"), default=uuid.uuid4)
    changed_at = models.DateTimeField(_("变更时间"))

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")

    def __str__(self) -> str:
        return str(self.token)
