"""`tongban periodic`: run the registered periodic jobs (see tongban.core.periodic).

    tongban periodic                      run forever, sleeping until the next job is due (SIGTERM/SIGINT: stop
                                          after the job in progress)
    tongban periodic --once [--job NAME ...] [--force]
                                          run every due job once and exit (1 if any failed); --force runs the
                                          selected jobs even if not due (never one another runner holds)
    tongban periodic --list [--json]      jobs with interval, next due time, last run and outcome
"""

from __future__ import annotations

import json
import signal
import threading

from django.core.management.base import CommandError
from django.utils import timezone

from tongban.core import periodic
from tongban.core.commands import TongbanCommand


class Command(TongbanCommand):
    help = "运行定时任务 / run the periodic jobs"

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="运行一次到期任务后退出 / run due jobs once and exit")
        mode.add_argument("--list", action="store_true", help="列出任务及上次运行结果 / list jobs and last runs")
        parser.add_argument("--job", action="append", default=None, metavar="NAME",
                            help="只运行该任务（可重复）/ only this job (repeatable)")
        parser.add_argument("--force", action="store_true",
                            help="与 --once 一起：未到期也运行 / with --once: run even if not due")
        parser.add_argument("--json", action="store_true", dest="as_json", help="与 --list 一起：输出 JSON")

    def handle(self, *args, once: bool, list: bool, job: list[str] | None, force: bool, as_json: bool,  # noqa: A002
               **options):
        known = {j.name for j in periodic.jobs()}
        unknown = [n for n in job or [] if n not in known]
        if unknown:
            raise CommandError(f"未注册的任务 / unknown job: {', '.join(unknown)} (registered: {', '.join(sorted(known))})",
                               returncode=2)
        if force and not once:
            raise CommandError("--force 只能与 --once 一起使用 / --force needs --once", returncode=2)
        if list:
            return self._list(as_json)
        if once:
            runs = periodic.run_due(names=job, force=force)
            for run in runs:
                outcome = "ok" if run.ok else "失败 / failed"
                self.stdout.write(f"{run.name}: {outcome} ({run.duration_ms} ms){' ' + run.result if run.result else ''}")
            if not runs:
                self.stdout.write("没有到期的任务 / no job was due")
            if any(not r.ok for r in runs):
                raise CommandError("有任务失败 / a job failed", returncode=1)
            return None
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        periodic.run_forever(stop=stop, names=job)
        return None

    def _list(self, as_json: bool) -> None:
        rows = periodic.status()
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{'job':<36} {'every':>8} {'next due':<19} {'last run':<19} {'outcome':<8} {'ms':>7}  error")
        for r in rows:
            outcome = {True: "ok", False: "FAILED", None: "-"}[r["last_ok"]]
            if r["running"]:
                outcome = "running"
            if r["overdue"]:
                outcome += " OVERDUE"
            self.stdout.write(
                f"{r['name']:<36} {_every(r['every_s']):>8} {_local(r['next_due_at']):<19} "
                f"{_local(r['last_started_at']):<19} {outcome:<8} {'' if r['last_duration_ms'] is None else r['last_duration_ms']:>7}  {r['last_error']}")


def _every(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _local(iso: str | None) -> str:
    if not iso:
        return "-"
    from datetime import datetime

    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M:%S")
