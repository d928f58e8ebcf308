import hashlib
import json
from datetime import UTC

import pytest

from tongban.audit.chain import GENESIS_HASH, partition_for
from tongban.audit.models import AuditEntry, AuditPartitionHead
from tongban.audit.services import append_entry, verify_chain

pytestmark = pytest.mark.django_db(transaction=True)

# Entries with neither a case nor a region go to the platform's partition: these tests use one chain.
PLATFORM = partition_for()


def _append_n(n, **extra):
    return [append_entry(action="case.step", object_type="case", object_id=str(i), **extra) for i in range(n)]


def test_entries_are_numbered_without_gaps_and_linked_by_hash(make_user):
    clerk = make_user()
    first = append_entry(action="case.accept", actor=clerk, role="clerk", object_type="case", object_id="C1",
                         region_code="430100", subject_code="430102199001011234", case_ref="C1",
                         reason="材料齐全", before={"status": "draft"}, after={"status": "accepted"})
    second = append_entry(action="case.dispatch", object_type="case", object_id="C1", case_ref="C1")

    assert first.seq == 1 and second.seq == 2
    assert first.partition == second.partition == partition_for(case_ref="C1")
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.actor_label == "clerk1" and second.actor_label == "system"
    assert first.at.tzinfo is not None and first.at.utcoffset().total_seconds() == 0
    head = AuditPartitionHead.objects.get(partition=first.partition)
    assert (head.last_seq, head.last_hash) == (2, second.hash)


def test_stored_hash_matches_the_documented_definition(make_user):
    """Recompute the hash exactly as docs/audit.md tells an external auditor to."""
    clerk = make_user()
    append_entry(action="material.read", actor=clerk, role="officer", object_type="material", object_id="9",
                 subject_code="91430100MA4L0XXXX", reason="审查", after={"b": [1, 2.5, "营业执照"], "a": 2.0})
    row = AuditEntry.objects.get()
    payload = {
        "v": 2, "p": PLATFORM, "seq": row.seq, "at": row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": clerk.pk, "actor_label": "clerk1", "role": "officer", "action": "material.read",
        "object_type": "material", "object_id": "9", "region_code": "", "subject_code": "91430100MA4L0XXXX",
        "case_ref": "", "reason": "审查", "before": None, "after": {"a": 2, "b": [1, 2.5, "营业执照"]},
        "prev_hash": "0" * 64,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert row.after == {"a": 2, "b": [1, 2.5, "营业执照"]}  # integral float stored as int


def test_json_values_round_trip_so_the_chain_verifies():
    import datetime
    import decimal
    import uuid

    append_entry(action="licence.issue", after={
        "when": datetime.datetime(2026, 5, 1, 8, 30, tzinfo=UTC), "fee": decimal.Decimal("12.50"),
        "id": uuid.UUID(int=7), "big": 1e100, "tiny": 1.5e-7, "neg": -0.0, "nested": {"z": [None, True]},
        3: "int key",
    })
    assert verify_chain().ok


def test_verify_reports_ok_with_count():
    _append_n(25)
    result = verify_chain(batch_size=7)
    assert result.ok and result.checked == 25
    assert result.first_broken_seq is None and result.problem == ""
    assert verify_chain(partition=PLATFORM).last_seq == 25


def test_verify_on_empty_trail_is_ok():
    result = verify_chain()
    assert result.ok and result.checked == 0


def test_edited_row_is_detected_and_named(raw_sql):
    _append_n(10)
    assert raw_sql("UPDATE {table} SET reason = %s WHERE seq = %s", ["改过了", 6]) == 1

    result = verify_chain(batch_size=4)

    assert not result.ok
    assert result.first_broken_seq == 6
    assert result.rule == "hash_mismatch"
    assert result.partition == PLATFORM
    assert result.checked == 5
    assert result.entry_id == AuditEntry.objects.get(seq=6).pk
    assert "seq 6" in result.problem and "序号 6" in result.problem
    assert f"partition {PLATFORM}" in result.problem


def test_edited_row_with_recomputed_hash_breaks_the_next_link(raw_sql):
    _append_n(5)
    entry = AuditEntry.objects.get(seq=3)
    entry.actor_label = "someone else"
    forged = entry.compute_hash()
    raw_sql("UPDATE {table} SET actor_label = %s, hash = %s WHERE seq = 3", ["someone else", forged])

    result = verify_chain()

    assert not result.ok and result.first_broken_seq == 4 and result.rule == "prev_hash"


def test_deleted_row_is_detected_as_a_gap(raw_sql):
    _append_n(8)
    assert raw_sql("DELETE FROM {table} WHERE seq = %s", [4]) == 1

    result = verify_chain(batch_size=3)

    assert not result.ok
    assert result.first_broken_seq == 4
    assert result.rule == "gap"
    assert result.entry_id == AuditEntry.objects.get(seq=5).pk


def test_deleted_and_renumbered_rows_are_detected(raw_sql):
    _append_n(6)
    raw_sql("DELETE FROM {table} WHERE seq = 3")
    for seq in (4, 5, 6):
        raw_sql("UPDATE {table} SET seq = %s WHERE seq = %s", [seq - 1, seq])

    result = verify_chain()

    assert not result.ok and result.first_broken_seq == 3 and result.rule == "prev_hash"


def test_swapped_rows_are_detected(raw_sql):
    _append_n(6)
    raw_sql("UPDATE {table} SET seq = -1 WHERE seq = 2")
    raw_sql("UPDATE {table} SET seq = 2 WHERE seq = 4")
    raw_sql("UPDATE {table} SET seq = 4 WHERE seq = -1")

    result = verify_chain()

    assert not result.ok and result.first_broken_seq == 2


def test_deleted_tail_is_detected_through_the_chain_head(raw_sql):
    _append_n(6)
    raw_sql("DELETE FROM {table} WHERE seq >= 5")

    result = verify_chain()

    assert not result.ok and result.first_broken_seq == 5 and result.rule == "head_ahead"


def test_inserted_row_at_the_end_with_a_bad_hash_is_detected(raw_sql):
    _append_n(3)
    last = AuditEntry.objects.get(seq=3)
    raw_sql(
        "INSERT INTO {table} (partition, seq, at, actor_label, role, action, object_type, object_id, region_code, "
        "subject_code, case_ref, reason, prev_hash, hash) VALUES (%s, 4, %s, 'x', '', 'case.fake', '', '', '', "
        "'', '', '', %s, %s)",
        [PLATFORM, last.at, last.hash, "f" * 64],
    )
    raw_sql("UPDATE audit_auditpartitionhead SET last_seq = 4, last_hash = %s WHERE partition = %s",
            ["f" * 64, PLATFORM])

    result = verify_chain()

    assert not result.ok and result.first_broken_seq == 4 and result.rule == "hash_mismatch"


def test_verify_from_a_given_seq(raw_sql):
    _append_n(10)
    raw_sql("UPDATE {table} SET reason = 'x' WHERE seq = 2")

    assert verify_chain(partition=PLATFORM, from_seq=3).ok
    assert verify_chain(partition=PLATFORM, from_seq=3).checked == 8
    assert verify_chain().first_broken_seq == 2


def test_appending_continues_the_chain_if_the_head_row_is_lost(raw_sql):
    _append_n(3)
    raw_sql("DELETE FROM audit_auditpartitionhead WHERE partition = %s", [PLATFORM])
    entry = append_entry(action="case.close")
    assert entry.seq == 4
    assert verify_chain().ok
