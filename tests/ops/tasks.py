"""Tasks for the worker tests (imported by the worker child processes through PYTHONPATH).

`mark_and_effect` appends "start <pid>" to a log file when its body starts, sleeps, then does its
effect once per key (tongban.core.worker.once) and appends "effect <pid>" only the first time."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task

from tongban.core.worker import once


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@task()
def mark_and_effect(key: str, seconds: float, log_path: str) -> str:
    _append(log_path, f"start {os.getpid()}")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    with once(f"test-effect:{key}") as first:
        if first:
            _append(log_path, f"effect {os.getpid()}")
    return key


def lines(log_path: str, kind: str) -> list[str]:
    path = Path(log_path)
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(kind + " ")]
