"""Core tables: the periodic-job runner's state (see tongban.core.periodic).

- `PeriodicJob`: one row per registered job, the unit of locking: a runner claims a due job by
  locking its row (`select_for_update(skip_locked=True)`) and writing a lease (`claimed_by`,
  `claimed_until`), then runs it outside any transaction, so two runners never run it at once.
- `PeriodicRun`: one row per run (name, started, finished, ok, error, duration).
- `TaskLease`: the lease a background worker holds on a running task of the Django task queue
  (tongban.core.worker): renewed by the worker's heartbeat, returned to the queue by the reaper when
  it expires (a killed or frozen worker), so no task stays RUNNING forever.
- `DoneKey`: idempotency keys of task bodies (`tongban.core.worker.once`): a key written in the same
  transaction as the effect, so a task that runs again does nothing the second time.
- `ThrottleWindow`: failure counters per key and fixed window (client-secret guessing at /o/token/).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodicJob(models.Model):
    name = models.CharField(_("任务名称"), max_length=100, unique=True)
    interval_seconds = models.PositiveIntegerField(_("间隔（秒）"))
    next_due_at = models.DateTimeField(_("下次运行时间"), default=timezone.now)
    claimed_by = models.CharField(_("运行进程"), max_length=128, blank=True)
    claimed_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("上次开始"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("上次结束"), null=True, blank=True)
    last_ok = models.BooleanField(_("上次是否成功"), null=True, blank=True)
    last_error = models.TextField(_("上次错误"), blank=True)
    last_duration_ms = models.PositiveIntegerField(_("上次耗时（毫秒）"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("上次成功"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name


class PeriodicRun(models.Model):
    job = models.ForeignKey(PeriodicJob, on_delete=models.CASCADE, related_name="runs", verbose_name=_("定时任务"))
    name = models.CharField(_("任务名称"), max_length=100)
    runner = models.CharField(_("运行进程"), max_length=128, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"))
    ok = models.BooleanField(_("成功"))
    error = models.TextField(_("错误"), blank=True)
    result = models.CharField(_("结果"), max_length=256, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"))

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("定时任务运行记录")
        verbose_name_plural = _("定时任务运行记录")
        indexes = [models.Index(fields=["name", "-started_at"], name="periodic_run_by_name")]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'failed'}"


class TaskLease(models.Model):
    task_id = models.UUIDField(_("任务"), primary_key=True)  # django_tasks_db's DBTaskResult.id
    worker_id = models.CharField(_("运行进程"), max_length=128)
    claimed_at = models.DateTimeField(_("领取时间"))
    heartbeat_at = models.DateTimeField(_("心跳时间"))
    lease_until = models.DateTimeField(_("租约到期"))
    attempts = models.PositiveIntegerField(_("尝试次数"), default=1)

    class Meta:
        verbose_name = _("后台任务租约")
        verbose_name_plural = _("后台任务租约")
        indexes = [models.Index(fields=["lease_until"], name="task_lease_expiry")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.worker_id} until {self.lease_until:%H:%M:%S}"


class DoneKey(models.Model):
    key = models.CharField(_("幂等键"), max_length=200, unique=True)
    done_at = models.DateTimeField(_("完成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已完成的后台工作")
        verbose_name_plural = _("已完成的后台工作")

    def __str__(self) -> str:
        return self.key


class ThrottleWindow(models.Model):
    key = models.CharField(_("计数键"), max_length=200, unique=True)
    window_started_at = models.DateTimeField(_("窗口开始"))
    failures = models.PositiveIntegerField(_("失败次数"), default=0)

    class Meta:
        verbose_name = _("失败计数")
        verbose_name_plural = _("失败计数")

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
