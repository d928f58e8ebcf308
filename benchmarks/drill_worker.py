"""Kill drill for `tongban background`: drain a queue while worker processes are killed with SIGKILL.

    python -m benchmarks.drill_worker [--tasks 300] [--workers 2] [--kills 10] [--lease 2]

Uses the database of DATABASE_URL (or the embedded SQLite) after `tongban migrate`. Enqueues `--tasks`
tasks (`benchmarks.drill_tasks.drill_effect`: a short sleep, then its effect once per key), starts
`--workers` worker processes, and every second kills one with SIGKILL (one holding a task's lease,
i.e. mid-task, when there is one) (replacing it) until
`--kills` kills; then waits for the queue to drain (bounded) and prints: completed, left RUNNING,
left READY, failed, re-runs (starts beyond one per task) and effects done (must equal the tasks).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)

    from benchmarks.harness import setup_django

    setup_django()
    from django_tasks_db.models import DBTaskResult

    from benchmarks import drill_tasks
    from tongban.core.models import DoneKey, TaskLease

    run = uuid.uuid4().hex[:8]
    starts = Path(f"/tmp/tongban-drill-{run}.log")
    results = [drill_tasks.drill_effect.enqueue(key=f"{run}:{n}", log_path=str(starts)) for n in range(args.tasks)]
    ids = [r.id for r in results]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "tongban"), "background", "--no-periodic", "--lease", str(args.lease),  # noqa: S603
                                 "--interval", "0.1"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    workers = [spawn() for _ in range(args.workers)]
    began = time.monotonic()
    kills = 0
    try:
        time.sleep(3.0)  # let them start
        while kills < args.kills:
            # Kill a worker in the middle of a task (one holding a lease) when there is one.
            holding = {int(w.split(":")[1]) for w in TaskLease.objects.values_list("worker_id", flat=True)}
            busy = [w for w in workers if w.pid in holding]
            victim = random.choice(busy or workers)  # noqa: S311 - a drill, not crypto
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            workers[workers.index(victim)] = spawn()
            kills += 1
            time.sleep(1.0)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if not DBTaskResult.objects.filter(id__in=ids, status__in=["READY", "RUNNING"]).exists():
                break
            time.sleep(0.5)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
    elapsed = time.monotonic() - began
    counts = {s: DBTaskResult.objects.filter(id__in=ids, status=s).count()
              for s in ("SUCCESSFUL", "RUNNING", "READY", "FAILED")}
    started = len(starts.read_text().splitlines()) if starts.exists() else 0
    effects = DoneKey.objects.filter(key__startswith=f"drill:{run}:").count()
    print(f"drill {run}: {args.tasks} tasks, {args.workers} workers, {kills} SIGKILLs, lease {args.lease:g} s, "
          f"{elapsed:.1f} s")
    print(f"  completed {counts['SUCCESSFUL']}, left RUNNING {counts['RUNNING']}, left READY {counts['READY']}, "
          f"failed {counts['FAILED']}")
    print(f"  task starts {started} (re-runs after a kill: {started - args.tasks}), effects done {effects} "
          f"(expected {args.tasks})")
    starts.unlink(missing_ok=True)
    ok = counts["SUCCESSFUL"] == args.tasks and effects == args.tasks
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
