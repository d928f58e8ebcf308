"""The task of the worker kill drill (benchmarks/drill_worker.py): logs each start, sleeps a little,
then does its effect once per key."""

from __future__ import annotations

import os
import time

from django_tasks import task

from tongban.core.worker import once


@task()
def drill_effect(key: str, log_path: str) -> str:
    with open(log_path, "a", encoding="utf-8") as handle:
        handle.write(f"{key} {os.getpid()}\n")
    time.sleep(0.2)
    with once(f"drill:{key}"):
        pass  # the DoneKey row is the effect (a real task writes its rows here)
    return key
