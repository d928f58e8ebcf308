"""Audit trail: append_entry against a bare ORM insert, and verify_chain throughput.

Run: `python -m benchmarks bench_audit` (SQLite by default; DATABASE_URL=postgres://... for
PostgreSQL). The baseline is a bare INSERT of a row of similar size through the ORM, Django's own
admin `LogEntry` (user FK, object id, text, JSON change message), each in its own transaction like
the appends, measured in the same run. append_entry adds: validation, JSON normalisation, the
chain-head row lock (SELECT ... FOR UPDATE), SHA-256 over the canonical JSON, and the head update.

verify_chain is timed over a chain of VERIFY_ENTRIES entries and reported per entry ("per s" is
entries/s); its baseline is reading the same columns in the same keyset batches without hashing.
"""

from __future__ import annotations

import os

from benchmarks.harness import Result, benchmark_database, measure, report

VERIFY_ENTRIES = int(os.environ.get("BENCH_AUDIT_VERIFY_ENTRIES", "20000"))
BEFORE = {"status": "submitted", "materials": ["营业执照", "法定代表人身份证"], "area_m2": 320}
AFTER = {"status": "accepted", "materials": ["营业执照", "法定代表人身份证"], "area_m2": 320}


def main() -> None:
    with benchmark_database() as db:
        import json

        from django.contrib.admin.models import ADDITION, LogEntry
        from django.contrib.auth import get_user_model
        from django.db import transaction

        from tongban.audit.chain import PARTITIONS, TEXT_FIELDS
        from tongban.audit.models import AuditEntry
        from tongban.audit.services import append_entry, verify_chain

        clerk = get_user_model().objects.create_user(username="bench-clerk", password="bench-password-123")
        counter = [0]
        change_message = json.dumps({"before": BEFORE, "after": AFTER}, ensure_ascii=False)

        def bare_insert():
            counter[0] += 1
            LogEntry.objects.create(
                user_id=clerk.pk, content_type=None, object_id=f"TB-2026-{counter[0]:07d}",
                object_repr="我要开饭馆 case.accept 430102199001011234 材料齐全，予以受理",
                action_flag=ADDITION, change_message=change_message,
            )

        def append():
            counter[0] += 1
            append_entry(action="case.accept", actor=clerk, role="clerk", object_type="case",
                         object_id=f"TB-2026-{counter[0]:07d}", region_code="430100",
                         subject_code="430102199001011234", case_ref=f"TB-2026-{counter[0]:07d}",
                         reason="材料齐全，予以受理", before=BEFORE, after=AFTER)

        def append_100_in_one_transaction():
            with transaction.atomic():
                for _ in range(100):
                    append()

        def bare_100_in_one_transaction():
            with transaction.atomic():
                for _ in range(100):
                    bare_insert()

        rows = [
            measure("bare ORM insert (admin LogEntry), own txn", bare_insert, runs=1000, warmup=50),
            measure("append_entry, own txn", append, runs=1000, warmup=50),
        ]
        batched = [
            _per_item(measure("bare ORM insert x100 in one txn", bare_100_in_one_transaction, runs=20, warmup=2),
                      100, "bare ORM insert, 100 per txn (per row)"),
            _per_item(measure("append_entry x100 in one txn", append_100_in_one_transaction, runs=20, warmup=2),
                      100, "append_entry, 100 per txn (per entry)"),
        ]
        report(f"audit append ({db.vendor})", rows, baseline="bare ORM insert (admin LogEntry), own txn")
        report(f"audit append, batched ({db.vendor})", batched, baseline="bare ORM insert, 100 per txn (per row)")

        missing = VERIFY_ENTRIES - AuditEntry.objects.count()
        while missing > 0:
            with transaction.atomic():
                for _ in range(min(1000, missing)):
                    append()
            missing = VERIFY_ENTRIES - AuditEntry.objects.count()
        total = AuditEntry.objects.count()
        assert verify_chain().ok

        columns = ("id", "seq", "at", "actor_id", "prev_hash", "hash", "before", "after", *TEXT_FIELDS)

        def read_only():  # the same walk as verify: each partition in seq order, keyset batches
            seen = 0
            for partition in range(PARTITIONS + 1):
                cursor = 0
                while True:
                    batch = list(AuditEntry.objects.filter(partition=partition, seq__gt=cursor).order_by("seq")
                                 .values_list(*columns)[:2000])
                    if not batch:
                        break
                    seen += len(batch)
                    cursor = batch[-1][1]
            return seen

        def verify():
            result = verify_chain(batch_size=2000)
            assert result.ok and result.checked == total

        verify_rows = [
            _per_item(measure("read", read_only, runs=5, warmup=1), total, "read rows in keyset batches (per entry)"),
            _per_item(measure("verify", verify, runs=5, warmup=1), total, "verify_chain (per entry)"),
        ]
        report(f"audit verify over {total:,} entries ({db.vendor})", verify_rows,
               baseline="read rows in keyset batches (per entry)")


def _per_item(result: Result, n: int, name: str) -> Result:
    return Result(name, result.runs, result.median_s / n, result.p95_s / n)


if __name__ == "__main__":
    main()
