"""Writes and checks of the audit trail: `append_entry` and `verify_chain`.

append_entry joins the caller's transaction (or opens one): the entry commits or rolls back with
the change it records, and because the chain head row stays locked until that commit, two appends
can never share a seq or fork the chain. The head lock serialises every audit-writing transaction
from the moment of the append until commit, so the append must be the LAST database step:

- inside a top-level service (`tongban.core.transactions.service`) append_entry validates the entry
  and buffers it; the service boundary writes every buffered entry, in order, just before commit
  (an entry made inside a savepoint that rolled back is dropped with it). The returned AuditEntry
  gets its seq and hash at that moment;
- outside a service it appends at once (scripts, tests, the exchange's own short transactions).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from tongban.core.errors import InvalidInput, Problem
from tongban.core.transactions import defer

from .chain import (
    GENESIS_HASH,
    PARTITIONS,
    TEXT_FIELDS,
    entry_hash,
    normalise_json,
    partition_for,
)
from .models import AuditEntry, AuditPartitionHead

_ACTION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")
_MAX_LENGTHS = {name: AuditEntry._meta.get_field(name).max_length for name in TEXT_FIELDS if name != "reason"}
_LABELS_ZH = {
    "actor_label": "操作人名称", "role": "操作角色", "action": "操作", "object_type": "对象类型",
    "object_id": "对象标识", "region_code": "区划代码", "subject_code": "当事人证件号码",
    "case_ref": "办件编号", "reason": "事由", "before": "变更前", "after": "变更后", "actor": "操作人",
}


def append_entry(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    role: str = "",
    object_type: str = "",
    object_id: str = "",
    region_code: str = "",
    subject_code: str = "",
    case_ref: str = "",
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> AuditEntry:
    """Append one entry to the trail inside the current transaction and return it.

    Raises InvalidInput (nothing written) for an empty or malformed action, over-long fields,
    NUL characters, an unsaved actor, or before/after values that are not JSON-serialisable.
    """
    problems: list[Problem] = []
    if actor is not None and getattr(actor, "pk", None) is None:
        problems.append(Problem("actor", "saved", "操作人必须是已保存的用户", "actor must be a saved user"))
    if not actor_label:
        actor_label = actor.get_username() if actor is not None else "system"
    text = {
        "actor_label": actor_label, "role": role, "action": action, "object_type": object_type,
        "object_id": object_id, "region_code": region_code, "subject_code": subject_code,
        "case_ref": case_ref, "reason": reason,
    }
    for name, value in list(text.items()):
        if value is None:
            value = text[name] = ""
        if not isinstance(value, str):
            value = text[name] = str(value)
        if "\x00" in value:
            problems.append(Problem(name, "no_nul", f"{_LABELS_ZH[name]}不得包含 NUL 字符",
                                    f"{name} must not contain NUL characters"))
        limit = _MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            problems.append(Problem(name, "max_length", f"{_LABELS_ZH[name]}不得超过 {limit} 个字符",
                                    f"{name} must be at most {limit} characters"))
    if not text["action"]:
        problems.append(Problem("action", "required", "必须填写操作", "action is required"))
    elif not _ACTION_RE.match(text["action"]):
        problems.append(Problem("action", "format", "操作名称只能包含字母、数字和 _ . : -（例如 case.accept）",
                                "action may contain only letters, digits and _ . : - (e.g. case.accept)"))
    data: dict[str, Any] = {}
    for name, value in (("before", before), ("after", after)):
        try:
            data[name] = normalise_json(value)
            if _contains_nul(data[name]):
                raise ValueError("NUL")
        except (TypeError, ValueError):
            problems.append(Problem(name, "json", f"{_LABELS_ZH[name]}必须是可序列化为 JSON 的数据（不含 NaN、NUL）",
                                    f"{name} must be JSON-serialisable (no NaN, infinity or NUL)"))
    if problems:
        raise InvalidInput(problems)

    entry = AuditEntry(actor=actor, before=data["before"], after=data["after"], **text)
    if not defer(entry, using):
        write_entries([entry], using=using)
    return entry


def write_entries(entries: list[AuditEntry], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Chain validated, unsaved entries onto the trail in order, in the caller's transaction.

    Each entry goes to its partition (its case, else its region: `chain.partition_for`). The heads of
    the partitions written are locked first, in partition order (so two writers never wait for each
    other in a cycle), then the entries are inserted in the order given and the heads updated."""
    # savepoint=False: inside the caller's transaction an audit failure must fail the whole
    # transaction (it cannot be caught and silently skipped), and two statements are saved per append.
    with transaction.atomic(using=using, savepoint=False):
        connection = connections[using]
        for entry in entries:
            entry.partition = partition_for(case_ref=entry.case_ref, region_code=entry.region_code)
        heads = {p: _lock_head(connection, p) for p in sorted({e.partition for e in entries})}
        for entry in entries:
            last_seq, last_hash = heads[entry.partition]
            entry.seq = last_seq + 1
            entry.at = timezone.now()  # taken under the lock, so times follow seq on one clock
            entry.prev_hash = last_hash
            entry.hash = entry.compute_hash()
            entry._appending = True
            entry.save(using=using)
            entry._appending = False
            heads[entry.partition] = (entry.seq, entry.hash)
        with connection.cursor() as cursor:
            for partition, (last_seq, last_hash) in heads.items():
                cursor.execute(_head_sql(connection, "update"), [last_seq, last_hash, partition])


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _head_sql(connection, kind: str) -> str:
    table = connection.ops.quote_name(AuditPartitionHead._meta.db_table)
    if kind == "update":
        return f"UPDATE {table} SET last_seq = %s, last_hash = %s WHERE partition = %s"  # noqa: S608 - table name from _meta
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"SELECT last_seq, last_hash FROM {table} WHERE partition = %s{lock}"  # noqa: S608 - table name from _meta


def _lock_head(connection, partition: int) -> tuple[int, str]:
    """Lock a partition's head row until the end of the transaction (creating it on first use) and
    return its (last_seq, last_hash).

    On PostgreSQL this is SELECT ... FOR UPDATE; SQLite has no row locks, but the project opens
    every transaction with BEGIN IMMEDIATE, which holds the database write lock until commit.
    Raw SQL on this hot path: the ORM's query compilation cost more than the queries themselves.
    """
    sql = _head_sql(connection, "lock")
    with connection.cursor() as cursor:
        cursor.execute(sql, [partition])
        row = cursor.fetchone()
        if row is None:
            # First append to the partition (or its head row was removed): start from its last entry,
            # if any. A concurrent creator makes ON CONFLICT DO NOTHING wait for it, then we lock its row.
            last = (AuditEntry.objects.using(connection.alias).filter(partition=partition).order_by("-seq")
                    .values_list("seq", "hash").first())
            seq, digest = last if last else (0, GENESIS_HASH)
            AuditPartitionHead.objects.using(connection.alias).bulk_create(
                [AuditPartitionHead(partition=partition, last_seq=seq, last_hash=digest)], ignore_conflicts=True,
            )
            cursor.execute(sql, [partition])
            row = cursor.fetchone()
    return int(row[0]), row[1]


# --------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # entries found intact (over all partitions checked)
    first_broken_seq: int | None = None  # within `partition`
    problem: str = ""
    # Details of the first broken entry (empty when ok or when the entry itself is missing).
    entry_id: int | None = None
    action: str = ""
    # gap / prev_hash / hash_mismatch / head_ahead / head_mismatch / anchor_mismatch / anchor_ahead /
    # unknown_partition, or an anchor's own rule (anchor_gap, anchor_link, anchor_hash, anchor_root,
    # anchor_key, anchor_signature, anchor_rewind; then first_broken_seq is None and anchor_number names it)
    rule: str = ""
    problem_zh: str = ""
    problem_en: str = ""
    partition: int | None = None  # the broken partition (or the one asked for)
    last_seq: int | None = None  # with a single partition checked: its last seq and hash
    last_hash: str = ""
    partitions: int = 0  # partitions checked
    anchor_number: int | None = None  # the latest anchor, checked against the partitions
    anchor_root: str = ""
    anchor_at: str = ""
    anchors: int = 0  # anchors checked

    def as_dict(self) -> dict:
        return asdict(self)


_COLUMNS = ("id", "seq", "at", "actor_id", "prev_hash", "hash", "before", "after", *TEXT_FIELDS)


class _Broken(Exception):
    def __init__(self, **fields):
        super().__init__(fields.get("rule", ""))
        self.fields = fields


def verify_chain(*, partition: int | None = None, from_seq: int | None = None, batch_size: int = 2000,
                 using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    """Verify the trail: every anchor (signature, key, links, Merkle root), then every partition (or
    only `partition`) in seq order, in keyset-paginated batches (bounded memory): each hash
    recomputed, seq continuity, prev_hash linkage, the head row, and the entry at the seq the latest
    anchor recorded for the partition (it must exist and carry the anchored hash: that detects a
    partition truncated, deleted or rewritten with recomputed hashes before that anchor). Returns the
    FIRST problem found (anchors first, then partitions in order).

    With `from_seq` (needs `partition`), the walk starts at that entry and trusts the stored hash of the
    entry before it. Entries committed after the walk starts (beyond the head read first) are left for
    the next run, so verify can run while the platform keeps appending.
    """
    from .anchors import check_anchors

    if batch_size < 1:
        raise InvalidInput(Problem("batch_size", "min", "批大小必须大于 0", "batch_size must be positive"))
    if from_seq is not None and from_seq < 1:
        raise InvalidInput(Problem("from_seq", "min", "起始序号必须大于等于 1", "from_seq must be at least 1"))
    if from_seq is not None and partition is None:
        raise InvalidInput(Problem("from_seq", "needs_partition", "指定起始序号时必须同时指定分区",
                                   "from_seq needs a partition (seq counts within a partition)"))
    if partition is not None and not 0 <= partition <= PARTITIONS:
        raise InvalidInput(Problem("partition", "range", f"分区必须在 0 到 {PARTITIONS} 之间",
                                   f"partition must be between 0 and {PARTITIONS}"))
    anchor, anchor_problem = check_anchors(using=using)
    context = {
        "anchor_number": anchor.number if anchor else None, "anchor_root": anchor.root if anchor else "",
        "anchor_at": anchor.at.isoformat() if anchor else "", "anchors": anchor.number if anchor else 0,
    }
    if anchor_problem is not None:
        p = anchor_problem
        return VerifyResult(ok=False, checked=0, problem=f"{p.zh} / {p.en}", rule=p.rule, problem_zh=p.zh,
                            problem_en=p.en, **{**context, "anchor_number": p.number})
    # Heads first (then entries up to them), so appends committed meanwhile are left for the next run.
    heads = {p: (s, h) for p, s, h in AuditPartitionHead.objects.using(using)
             .values_list("partition", "last_seq", "last_hash")}
    anchored = {p: (s, h) for p, s, h in (anchor.heads if anchor else [])}
    entries = AuditEntry.objects.using(using)
    if partition is None:
        stray = entries.exclude(partition__lte=PARTITIONS).values_list("id", "partition", "seq", "action").first()
        if stray is not None:
            entry_id, p, seq, action = stray
            zh = f"审计记录 id {entry_id} 位于不存在的分区 {p}"
            en = f"entry id {entry_id} is in partition {p}, which does not exist"
            return VerifyResult(ok=False, checked=0, first_broken_seq=seq, problem=f"{zh} / {en}",
                                entry_id=entry_id, action=action, rule="unknown_partition", problem_zh=zh,
                                problem_en=en, partition=p, **context)
        selected = sorted(set(range(PARTITIONS + 1)) | set(heads) | set(anchored))
    else:
        selected = [partition]
    checked = 0
    last = (None, "")
    for p in selected:
        try:
            count, last = _verify_partition(p, heads.get(p), anchored.get(p), from_seq, batch_size, entries)
        except _Broken as broken:
            fields = broken.fields
            zh, en = fields.pop("zh"), fields.pop("en")
            return VerifyResult(ok=False, checked=checked + fields.pop("count"), problem=f"{zh} / {en}",
                                problem_zh=zh, problem_en=en, partition=p, partitions=selected.index(p) + 1,
                                **fields, **context)
        checked += count
    single = len(selected) == 1
    return VerifyResult(ok=True, checked=checked, partition=partition, partitions=len(selected),
                        last_seq=last[0] if single else None, last_hash=last[1] if single else "", **context)


def _verify_partition(p: int, head, anchored, from_seq, batch_size, entries) -> tuple[int, tuple]:
    """Walk one partition; returns (entries checked, (last seq, last hash)) or raises _Broken."""
    rows_of = entries.filter(partition=p)
    start = from_seq or 1
    checked = 0

    def broken(seq, entry_id, action, rule, zh, en):
        return _Broken(count=checked, first_broken_seq=seq, entry_id=entry_id, action=action, rule=rule,
                       zh=f"分区 {p}：{zh}", en=f"partition {p}: {en}")

    if start == 1:
        expected_prev = GENESIS_HASH
    else:
        expected_prev = rows_of.filter(seq=start - 1).values_list("hash", flat=True).first()
        if expected_prev is None:
            raise broken(start - 1, None, "", "gap", f"序号 {start - 1} 的审计记录缺失（无法从 {start} 开始校验）",
                         f"entry seq {start - 1} is missing (cannot verify from {start})")
    expected_seq = start
    last_hash = expected_prev
    upper = head[0] if head is not None else None
    anchor_seq = anchored[0] if anchored else None
    while True:
        batch = rows_of.filter(seq__gte=expected_seq).order_by("seq")
        if upper is not None:
            batch = batch.filter(seq__lte=max(upper, anchor_seq or 0))
        rows = list(batch.values_list(*_COLUMNS)[:batch_size])
        if not rows:
            break
        for values in rows:
            row = dict(zip(_COLUMNS, values, strict=True))
            seq = row["seq"]
            if seq != expected_seq:
                raise broken(expected_seq, row["id"], row["action"], "gap",
                             f"序号 {expected_seq}–{seq - 1} 的审计记录缺失（被删除？）；下一条为序号 {seq}（id {row['id']}）",
                             f"entries seq {expected_seq}..{seq - 1} are missing (deleted?); "
                             f"next present is seq {seq} (id {row['id']}, {row['action']})")
            if row["prev_hash"] != expected_prev:
                raise broken(seq, row["id"], row["action"], "prev_hash",
                             f"序号 {seq}（id {row['id']}，{row['action']}）的前一条哈希与序号 {seq - 1} 的哈希不一致"
                             "（前一条被改写、删除或插入了记录）",
                             f"entry seq {seq} (id {row['id']}, {row['action']}): prev_hash does not match the "
                             f"hash of seq {seq - 1} (a previous entry was rewritten, removed or inserted)")
            recomputed = entry_hash(
                partition=p, seq=seq, at=row["at"], actor_id=row["actor_id"], prev_hash=row["prev_hash"],
                before=row["before"], after=row["after"], **{n: row[n] for n in TEXT_FIELDS},
            )
            if recomputed != row["hash"]:
                raise broken(seq, row["id"], row["action"], "hash_mismatch",
                             f"序号 {seq}（id {row['id']}，{row['action']}）的内容与其哈希不符（记录被修改）",
                             f"entry seq {seq} (id {row['id']}, {row['action']}): content does not match "
                             "its hash (the row was edited)")
            if seq == anchor_seq and row["hash"] != anchored[1]:
                raise broken(seq, row["id"], row["action"], "anchor_mismatch",
                             f"序号 {seq} 的哈希与已签名锚定记录的链头不符（此前的记录被改写）",
                             f"entry seq {seq}: its hash differs from the head recorded in the signed anchor "
                             "(entries up to it were rewritten)")
            checked += 1
            expected_prev = last_hash = row["hash"]
            expected_seq = seq + 1
    last_seq = expected_seq - 1
    if anchor_seq is not None and last_seq < anchor_seq:
        raise broken(last_seq + 1, None, "", "anchor_ahead",
                     f"已签名锚定记录显示该分区至少有 {anchor_seq} 条记录，但序号 {last_seq + 1} 起缺失（被截断或删除）",
                     f"the signed anchor records {anchor_seq} entries, but entries from seq {last_seq + 1} "
                     "are missing (truncated or deleted)")
    if head is not None:
        if head[0] > last_seq:
            raise broken(last_seq + 1, None, "", "head_ahead",
                         f"链头记录最后序号为 {head[0]}，但序号 {last_seq + 1} 起的审计记录缺失（末尾被删除）",
                         f"the chain head says the last seq is {head[0]}, but entries from seq "
                         f"{last_seq + 1} are missing (the tail was deleted)")
        if last_seq >= start and last_seq == head[0] and head[1] != last_hash:
            raise broken(last_seq, None, "", "head_mismatch", f"链头哈希与序号 {last_seq} 的哈希不一致",
                         f"the chain head's hash does not match the hash of seq {last_seq}")
    return checked, (last_seq if last_seq >= 1 else None, last_hash if last_seq >= 1 else "")
