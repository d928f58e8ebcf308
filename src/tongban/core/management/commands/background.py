"""`tongban background`: the one background process: the task worker (leases, heartbeat, reaper; see
tongban.core.worker) and the periodic jobs (tongban.core.periodic) in one process.

    tongban background                  both, until SIGTERM/SIGINT (the running task and job finish first;
                                        a second signal exits at once: the lease expires and the task
                                        runs again elsewhere)
    tongban background --no-periodic    the task worker only (e.g. a second worker host)
    tongban background --no-tasks       the periodic jobs only (what `tongban periodic` does)
    tongban background --lease 60 --interval 1 --queue default,other --worker-id ID

Run one or more, on any hosts sharing the database. Replaces django-tasks-db's `db_worker`, which
must not run next to it (its claims have no lease; see docs/deploy.md).
"""

from __future__ import annotations

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import CommandError

from tongban.core import periodic, worker
from tongban.core.commands import TongbanCommand


class Command(TongbanCommand):
    help = "后台任务与定时任务 / background tasks and periodic jobs"

    def add_arguments(self, parser):
        parser.add_argument("--no-periodic", action="store_false", dest="with_periodic",
                            help="不运行定时任务 / no periodic jobs")
        parser.add_argument("--no-tasks", action="store_false", dest="with_tasks",
                            help="不运行后台任务 / no task worker")
        parser.add_argument("--lease", type=float, default=None,
                            help="任务租约（秒）/ task lease in seconds (default TONGBAN_TASK_LEASE_SECONDS, 60)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="队列为空时的轮询间隔（秒）/ poll interval when the queue is empty")
        parser.add_argument("--queue", default="default", help="队列，逗号分隔，* 为全部 / queues (comma-separated, * all)")
        parser.add_argument("--backend", default="default", help="task backend alias")
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args, with_periodic: bool, with_tasks: bool, lease: float | None, interval: float, queue: str,
               backend: str, worker_id: str | None, **options):
        if not (with_periodic or with_tasks):
            raise CommandError("--no-periodic 与 --no-tasks 不能同时使用 / nothing to run", returncode=2)
        if lease is not None:
            if not 1 <= lease <= 3600:
                raise CommandError("--lease must be between 1 and 3600 seconds", returncode=2)
            settings.TONGBAN_TASK_LEASE_SECONDS = lease
        if not 0 < interval <= 60:
            raise CommandError("--interval must be more than 0 and at most 60 seconds", returncode=2)
        stop = threading.Event()

        def on_signal(signum, frame):
            if stop.is_set():
                os._exit(1)  # second signal: leave now; the lease expires and the reaper requeues the task
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        runner = None
        if with_periodic:
            runner = threading.Thread(target=periodic.run_forever, kwargs={"stop": stop}, name="periodic", daemon=True)
            runner.start()
        if with_tasks:
            worker.run_forever(stop=stop, worker_id=worker_id, interval=interval, backend_name=backend,
                               queues=queue.split(","))
        else:
            stop.wait()
        if runner is not None:
            runner.join()
