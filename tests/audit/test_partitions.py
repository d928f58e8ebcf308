"""The partitioned trail: one chain per partition (by case, else region), verified together, and the
legacy single chain (partition 0, hash format 1) kept verifiable after the migration."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from tongban.audit import selectors
from tongban.audit.chain import GENESIS_HASH, LEGACY_PARTITION, PARTITIONS, partition_for
from tongban.audit.models import AuditEntry, AuditPartitionHead
from tongban.audit.services import append_entry, verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


def _two_cases_in_different_partitions():
    first = "TB-430100-20261129-000001"
    for n in range(2, 200):
        other = f"TB-430100-20261129-{n:06d}"
        if partition_for(case_ref=other) != partition_for(case_ref=first):
            return first, other
    raise AssertionError("no second partition found")  # pragma: no cover


def test_an_entry_goes_to_the_partition_of_its_case_else_its_region():
    a = append_entry(action="case.submit", case_ref="C-1", region_code="430100")
    b = append_entry(action="ticket.called", region_code="430100")
    c = append_entry(action="federation.retry")
    assert a.partition == partition_for(case_ref="C-1")
    assert b.partition == partition_for(region_code="430100")
    assert c.partition == partition_for()
    assert all(1 <= e.partition <= PARTITIONS for e in (a, b, c))


def test_each_partition_is_its_own_chain_numbered_from_one():
    one, two = _two_cases_in_different_partitions()
    a1 = append_entry(action="case.start", case_ref=one)
    b1 = append_entry(action="case.start", case_ref=two)
    a2 = append_entry(action="case.submit", case_ref=one)
    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)
    assert a1.prev_hash == b1.prev_hash == GENESIS_HASH and a2.prev_hash == a1.hash
    heads = dict(AuditPartitionHead.objects.filter(last_seq__gt=0).values_list("partition", "last_seq"))
    assert heads == {a1.partition: 2, b1.partition: 1}
    result = verify_chain()
    assert result.ok and result.checked == 3 and result.partitions == PARTITIONS + 1


def test_a_case_trail_reads_in_order_across_the_interleaved_partitions():
    one, two = _two_cases_in_different_partitions()
    for step in ("start", "submit", "accept"):
        append_entry(action=f"case.{step}", case_ref=one)
        append_entry(action=f"case.{step}", case_ref=two)
    assert [e.action for e in selectors.trail_for_case(one)] == ["case.start", "case.submit", "case.accept"]
    assert [e.seq for e in selectors.trail_for_case(two)] == [1, 2, 3]


def test_one_transaction_writing_to_two_partitions_chains_both():
    from tongban.core.transactions import service

    one, two = _two_cases_in_different_partitions()

    @service
    def both():
        return [append_entry(action="case.merge", case_ref=one), append_entry(action="case.merge", case_ref=two),
                append_entry(action="case.merge2", case_ref=one)]

    entries = both()
    assert [(e.case_ref, e.seq) for e in entries] == [(one, 1), (two, 1), (one, 2)]
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["case.merge", "case.merge", "case.merge2"]
    assert verify_chain().ok


def test_tampering_in_one_partition_names_that_partition(raw_sql):
    one, two = _two_cases_in_different_partitions()
    for _ in range(3):
        append_entry(action="case.step", case_ref=one)
        append_entry(action="case.step", case_ref=two)
    victim = partition_for(case_ref=two)
    raw_sql("UPDATE {table} SET reason = 'edited' WHERE partition = %s AND seq = 2", [victim])

    result = verify_chain()

    assert not result.ok and result.rule == "hash_mismatch"
    assert (result.partition, result.first_broken_seq) == (victim, 2)
    assert verify_chain(partition=partition_for(case_ref=one)).ok


def test_moving_an_entry_to_another_partition_is_detected(raw_sql):
    one, two = _two_cases_in_different_partitions()
    append_entry(action="case.step", case_ref=one)
    moved = append_entry(action="case.step", case_ref=one)
    append_entry(action="case.step", case_ref=two)
    target = partition_for(case_ref=two)
    raw_sql("UPDATE {table} SET partition = %s, seq = 2, prev_hash = %s WHERE id = %s",
            [target, AuditEntry.objects.get(partition=target, seq=1).hash, moved.pk])
    raw_sql("UPDATE audit_auditpartitionhead SET last_seq = 1, last_hash = %s WHERE partition = %s",
            [AuditEntry.objects.get(case_ref=one, seq=1).hash, moved.partition])
    raw_sql("UPDATE audit_auditpartitionhead SET last_seq = 2, last_hash = %s WHERE partition = %s",
            [moved.hash, target])

    result = verify_chain()

    assert not result.ok and result.rule == "hash_mismatch" and result.partition == target  # p is hashed


def test_reordered_entries_are_detected(raw_sql):
    for i in range(4):
        append_entry(action="case.step", case_ref="C-9", reason=str(i))
    p = partition_for(case_ref="C-9")
    raw_sql("UPDATE {table} SET seq = -1 WHERE partition = %s AND seq = 2", [p])
    raw_sql("UPDATE {table} SET seq = 2 WHERE partition = %s AND seq = 3", [p])
    raw_sql("UPDATE {table} SET seq = 3 WHERE partition = %s AND seq = -1", [p])

    result = verify_chain()

    assert not result.ok and result.partition == p and result.first_broken_seq == 2
    assert result.rule in {"prev_hash", "hash_mismatch"}


def test_an_entry_in_a_partition_that_does_not_exist_is_reported(raw_sql):
    entry = append_entry(action="case.step", case_ref="C-1")
    raw_sql("UPDATE {table} SET partition = %s WHERE id = %s", [PARTITIONS + 7, entry.pk])
    result = verify_chain()
    assert not result.ok and result.rule == "unknown_partition" and result.partition == PARTITIONS + 7


def test_from_seq_needs_a_partition():
    from tongban.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        verify_chain(from_seq=3)
    assert caught.value.problems[0].field == "from_seq"


# --- the legacy chain and the migration -------------------------------------------------------------------


def _legacy_hash(seq, at, prev, action):
    """Format 1, as docs/audit.md defined it before partitioning (no "p")."""
    payload = {"v": 1, "seq": seq, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor_id": None,
               "actor_label": "system", "role": "", "action": action, "object_type": "case", "object_id": "X",
               "region_code": "430100", "subject_code": "", "case_ref": "X", "reason": "", "before": None,
               "after": None, "prev_hash": prev}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_migration_keeps_the_old_trail_verifiable_as_partition_zero():
    """Roll the audit app back to its single chain, write a trail the old way, migrate forward: the old
    entries become partition 0 (format 1, untouched), the old head becomes its head, and new entries
    go to the partitions."""
    call_command("migrate", "audit", "0001", verbosity=0)
    try:
        prev = GENESIS_HASH
        at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        table = connection.ops.quote_name("audit_auditentry")
        with connection.cursor() as cursor:
            for seq in (1, 2, 3):
                digest = _legacy_hash(seq, at, prev, f"case.s{seq}")
                cursor.execute(
                    f"INSERT INTO {table} (seq, at, actor_label, role, action, object_type, object_id, region_code, "  # noqa: S608
                    "subject_code, case_ref, reason, prev_hash, hash) VALUES (%s, %s, 'system', '', %s, 'case', 'X', "
                    "'430100', '', 'X', '', %s, %s)", [seq, at, f"case.s{seq}", prev, digest])
                prev = digest
            cursor.execute("INSERT INTO audit_auditchainhead (id, last_seq, last_hash) VALUES (1, 3, %s)", [prev])
    finally:
        call_command("migrate", "audit", verbosity=0)

    assert set(AuditEntry.objects.values_list("partition", flat=True)) == {LEGACY_PARTITION}
    head = AuditPartitionHead.objects.get(partition=LEGACY_PARTITION)
    assert (head.last_seq, head.last_hash) == (3, prev)
    assert AuditPartitionHead.objects.filter(partition__gte=1).count() == PARTITIONS
    new = append_entry(action="case.s4", case_ref="X", region_code="430100")
    assert new.partition == partition_for(case_ref="X") and new.seq == 1  # the legacy chain is closed
    assert [e.action for e in selectors.trail_for_case("X")] == ["case.s1", "case.s2", "case.s3", "case.s4"]
    result = verify_chain()
    assert result.ok and result.checked == 4


def test_tampering_with_the_legacy_chain_is_still_detected(raw_sql):
    call_command("migrate", "audit", "0001", verbosity=0)
    try:
        at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        prev = GENESIS_HASH
        with connection.cursor() as cursor:
            for seq in (1, 2):
                digest = _legacy_hash(seq, at, prev, "case.s")
                cursor.execute(
                    "INSERT INTO audit_auditentry (seq, at, actor_label, role, action, object_type, object_id, "
                    "region_code, subject_code, case_ref, reason, prev_hash, hash) VALUES (%s, %s, 'system', '', "
                    "'case.s', 'case', 'X', '430100', '', 'X', '', %s, %s)", [seq, at, prev, digest])
                prev = digest
    finally:
        call_command("migrate", "audit", verbosity=0)
    assert verify_chain().ok  # no old head row: partition 0's head is taken from its last entry
    raw_sql("UPDATE {table} SET region_code = '430200' WHERE partition = 0 AND seq = 1")
    result = verify_chain()
    assert not result.ok and (result.partition, result.first_broken_seq, result.rule) == (0, 1, "hash_mismatch")
