"""Concurrent appends from many connections never share a seq, leave a gap or fork the chain.

Each thread has its own database connection (Django opens one per thread), as separate worker
processes would. On PostgreSQL the chain-head row lock (SELECT ... FOR UPDATE) serialises them; on
SQLite the project's BEGIN IMMEDIATE transactions do, so the test runs on both backends.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tongban.audit.models import AuditEntry
from tongban.audit.services import append_entry, verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def _in_thread(fn, errors):
    def run():
        try:
            fn()
        except Exception as exc:  # collected and asserted in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.fixture
def needs_file_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads cannot share an in-memory SQLite database")


def test_concurrent_appends_never_fork_or_leave_gaps(needs_file_database):
    threads, per_thread = 8, 20
    barrier = threading.Barrier(threads)
    errors: list[Exception] = []
    committed = []
    lock = threading.Lock()

    def worker(n):
        def body():
            barrier.wait()
            for i in range(per_thread):
                try:
                    with transaction.atomic():
                        entry = append_entry(action="case.step", object_type="case", object_id=f"{n}-{i}",
                                             reason=f"worker {n}")
                        time.sleep(0.001)  # the caller's own work after the append, lock held
                        if i % 5 == 4:
                            raise Rollback
                    with lock:
                        committed.append(entry.seq)
                except Rollback:
                    pass
        return body

    workers = [_in_thread(worker(n), errors) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert not errors, errors

    expected = threads * per_thread * 4 // 5
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    assert sorted(committed) == seqs
    links = list(AuditEntry.objects.order_by("seq").values_list("prev_hash", "hash"))
    assert all(links[i][0] == links[i - 1][1] for i in range(1, len(links)))
    assert len({h for _, h in links}) == len(links)
    result = verify_chain(batch_size=50)
    assert result.ok and result.checked == expected


def test_a_second_append_waits_for_the_first_transaction(needs_file_database):
    append_entry(action="case.start")  # the chain head exists, so the lock (not its creation) is tested
    holding = threading.Event()
    release = threading.Event()
    errors: list[Exception] = []
    seqs = {}

    def first():
        with transaction.atomic():
            seqs["first"] = append_entry(action="case.first").seq
            holding.set()
            release.wait(timeout=30)

    def second():
        holding.wait(timeout=30)
        seqs["second"] = append_entry(action="case.second").seq

    a, b = _in_thread(first, errors), _in_thread(second, errors)
    a.start()
    b.start()
    assert holding.wait(timeout=30)
    time.sleep(0.3)
    assert "second" not in seqs, "the second append did not wait for the chain head lock"
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not errors, errors
    assert seqs == {"first": 2, "second": 3}
    assert verify_chain().ok


def _cases_in_two_partitions():
    from tongban.audit.chain import partition_for

    first = "TB-430100-20261129-000001"
    other = next(f"TB-310118-20261129-{n:06d}" for n in range(1, 200)
                 if partition_for(case_ref=f"TB-310118-20261129-{n:06d}") != partition_for(case_ref=first))
    return first, other


def test_appends_of_two_cases_in_other_partitions_do_not_wait_for_each_other():
    """While one transaction holds its partition's head (appended, not committed), an append for a case of
    another region, in another partition, commits at once; one for the same case still waits."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: SQLite's BEGIN IMMEDIATE serialises every write transaction")
    mine, theirs = _cases_in_two_partitions()
    append_entry(action="case.start", case_ref=mine)
    append_entry(action="case.start", case_ref=theirs)
    holding, release = threading.Event(), threading.Event()
    errors: list[Exception] = []
    done: dict[str, float] = {}

    def first():
        with transaction.atomic():
            append_entry(action="case.first", case_ref=mine)
            holding.set()
            release.wait(timeout=30)

    def other_partition():
        holding.wait(timeout=30)
        append_entry(action="case.other", case_ref=theirs, region_code="310118")
        done["other"] = time.monotonic()

    def same_partition():
        holding.wait(timeout=30)
        append_entry(action="case.same", case_ref=mine)
        done["same"] = time.monotonic()

    threads = [_in_thread(fn, errors) for fn in (first, other_partition, same_partition)]
    for t in threads:
        t.start()
    assert holding.wait(timeout=30)
    deadline = time.monotonic() + 10
    while "other" not in done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "other" in done, "an append to another partition waited for an unrelated transaction"
    assert "same" not in done, "an append to the same partition did not wait for the head lock"
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert "same" in done
    assert verify_chain().ok
