"""Queue tickets (取号 / 叫号) of a service hall: taken at a kiosk, called to a window by a clerk."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Ticket(models.Model):
    class Category(models.TextChoices):
        # The same codes as the demo windows' `categories` (tongban.regions.models.Window).
        ENTERPRISE = "enterprise", _("企业办事")
        PERSONAL = "personal", _("个人办事")
        CROSS_REGION = "cross-region", _("跨域通办")
        DELIVERY = "delivery", _("统一出件")

    class Status(models.TextChoices):
        WAITING = "waiting", _("等候中")
        CALLED = "called", _("已叫号")
        DONE = "done", _("已办结")

    PREFIX = {"enterprise": "E", "personal": "P", "cross-region": "C", "delivery": "D"}

    hall = models.ForeignKey("regions.ServiceHall", on_delete=models.PROTECT, related_name="tickets",
                             verbose_name=_("政务服务中心"))
    day = models.DateField(_("日期"))
    number = models.PositiveIntegerField(_("号码"))
    category = models.CharField(_("业务类别"), max_length=16, choices=Category.choices)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.WAITING)
    window = models.ForeignKey("regions.Window", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="tickets", verbose_name=_("窗口"))
    taken_at = models.DateTimeField(_("取号时间"), auto_now_add=True)
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    called_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("叫号人"))
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["hall_id", "day", "number"]
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        constraints = [models.UniqueConstraint(fields=["hall", "day", "number"], name="ticket_unique_number")]
        indexes = [models.Index(fields=["hall", "day", "status", "category", "number"], name="ticket_queue")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.PREFIX.get(self.category, '')}{self.number:03d}"
