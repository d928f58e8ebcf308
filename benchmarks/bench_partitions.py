"""Audit appends under contention: one partition (as every write was before decision 0012) against
writes spread over the cases of seven regions, same code, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m benchmarks bench_partitions

THREADS connections (own connection each, as app processes) append in a loop; each transaction appends
one entry and then holds it HOLD_MS before committing: the rest of a request's transaction (on the
service boundary the append is the last statement, so what follows is the commit and its WAL flush;
HOLD_MS stands for that and costs no CPU, so the figure does not depend on how busy the shared cores
are). With one partition every transaction waits for the previous one's head lock: at most
1000 / HOLD_MS commits per second whatever the thread count. Spread over many cases the heads are
different rows and the threads overlap. Reported: commits per second and the ratio to one partition.
PostgreSQL only (SQLite's BEGIN IMMEDIATE serialises all writers anyway).
"""

from __future__ import annotations

import os
import threading
import time

from benchmarks.harness import benchmark_database

THREADS = int(os.environ.get("BENCH_PARTITIONS_THREADS", "8"))
SECONDS = float(os.environ.get("BENCH_PARTITIONS_SECONDS", "5"))
HOLD_MS = float(os.environ.get("BENCH_PARTITIONS_HOLD_MS", "5"))
REGIONS = ["430100", "430200", "430300", "421200", "310118", "320509", "330421"]


def _drive(case_ref_for) -> float:
    from django.db import connections, transaction

    from tongban.audit.services import append_entry

    counts = [0] * THREADS
    start = threading.Barrier(THREADS + 1)
    stop_at = [0.0]

    def work(n: int) -> None:
        try:
            start.wait()
            i = 0
            while time.monotonic() < stop_at[0]:
                i += 1
                region = REGIONS[n % len(REGIONS)]
                with transaction.atomic():
                    append_entry(action="case.step", case_ref=case_ref_for(n, i, region), region_code=region,
                                 object_type="case", reason="bench")
                    time.sleep(HOLD_MS / 1000)
                counts[n] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + SECONDS
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    with benchmark_database() as db:
        if db.vendor != "postgresql":
            print("\n## audit appends under contention: PostgreSQL only (set DATABASE_URL)")
            return
        from tongban.audit.services import verify_chain

        rows = [
            ("one partition (one case: every write before partitioning)", lambda n, i, r: "TB-ONE-CASE"),
            ("spread: a case per thread, 7 regions", lambda n, i, r: f"{r}-T{n}"),
            ("spread: a new case per transaction", lambda n, i, r: f"{r}-T{n}-{i}"),
        ]
        results = [(name, _drive(fn)) for name, fn in rows]
        assert verify_chain().ok
        base = results[0][1]
        print(f"\n## audit appends under contention ({THREADS} connections, {HOLD_MS:g} ms held after the append, "
              f"{SECONDS:g} s each, {db.vendor}; load average {os.getloadavg()[0]:.1f})")
        print(f"{'case':<60} {'commits/s':>10} {'vs one partition':>17}")
        for name, rate in results:
            print(f"{name:<60} {rate:>10.1f} {rate / base:>16.2f}x")


if __name__ == "__main__":
    main()
