"""Tiny benchmark harness: medians and p95 of repeated timings, printed as a table with ratios.

Each benchmark script measures its subject and a baseline in the same run (the machine is shared
and noisy, so only same-run ratios and medians are worth quoting).

    from benchmarks.harness import measure, report
    rows = [measure("bare pk read", fn_a, runs=2000), measure("query with log", fn_b, runs=2000)]
    report("exchange queries", rows, baseline="bare pk read")
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


def setup_django() -> None:
    """Configure Django for a script run from the project root (`python -m benchmarks.bench_x`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


@dataclass
class Result:
    name: str
    runs: int
    median_s: float
    p95_s: float

    @property
    def per_second(self) -> float:
        return 1.0 / self.median_s if self.median_s else float("inf")


def measure(name: str, fn: Callable[[], object], *, runs: int = 200, warmup: int = 10,
            batch: int = 1) -> Result:
    """Time `fn` `runs` times (after `warmup` calls); with batch > 1 each timing covers `batch` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return Result(name, runs, statistics.median(samples), p95)


def report(title: str, rows: list[Result], *, baseline: str | None = None, out=sys.stdout) -> None:
    base = next((r for r in rows if r.name == baseline), None)
    print(f"\n## {title}", file=out)
    print(f"{'case':<48} {'median':>12} {'p95':>12} {'per s':>12} {'vs baseline':>12}", file=out)
    for r in rows:
        ratio = f"{r.median_s / base.median_s:.2f}x" if base else "-"
        print(f"{r.name:<48} {_fmt(r.median_s):>12} {_fmt(r.p95_s):>12} {r.per_second:>12,.0f} {ratio:>12}", file=out)


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


class benchmark_database:  # noqa: N801 - used as a context manager like a function
    """Create a throw-away test database (SQLite file or PostgreSQL per DATABASE_URL), migrate it,
    and drop it afterwards, so benchmarks never touch real data.

        with benchmark_database():
            ...
    """

    def __enter__(self):
        setup_django()
        from django.db import connection
        from django.test.utils import setup_databases, setup_test_environment

        setup_test_environment()
        self._old = setup_databases(verbosity=0, interactive=False, keepdb=False)
        self.vendor = connection.vendor
        return self

    def __exit__(self, *exc):
        from django.test.utils import teardown_databases, teardown_test_environment

        teardown_databases(self._old, verbosity=0)
        teardown_test_environment()
        return False
