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

from .chain import GENESIS_HASH, TEXT_FIELDS, entry_hash, normalise_json
from .models import AuditChainHead, AuditEntry

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
    """Chain validated, unsaved entries onto the trail in order, in the caller's transaction."""
    # savepoint=False: inside the caller's transaction an audit failure must fail the whole
    # transaction (it cannot be caught and skipped), and two statements are saved per append.
    with transaction.atomic(using=using, savepoint=False):
        connection = connections[using]
        last_seq, last_hash = _lock_head(connection)
        for entry in entries:
            entry.seq = last_seq + 1
            entry.at = timezone.now()  # taken under the lock, so times follow seq on one clock
            entry.prev_hash = last_hash
            entry.hash = entry.compute_hash()
            entry._appending = True
            entry.save(using=using)
            entry._appending = False
            last_seq, last_hash = entry.seq, entry.hash
        with connection.cursor() as cursor:
            cursor.execute(_head_sql(connection, "update"), [last_seq, last_hash, AuditChainHead.SINGLETON_ID])


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _head_sql(connection, kind: str) -> str:
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    if kind == "update":
        return f"UPDATE {table} SET last_seq = %s, last_hash = %s WHERE id = %s"  # noqa: S608 - table name from _meta
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"SELECT last_seq, last_hash FROM {table} WHERE id = %s{lock}"  # noqa: S608 - table name from _meta


def _lock_head(connection) -> tuple[int, str]:
    """Lock the chain head row until the end of the transaction (creating it on first use) and
    return its (last_seq, last_hash).

    On PostgreSQL this is SELECT ... FOR UPDATE; SQLite has no row locks, but the project opens
    every transaction with BEGIN IMMEDIATE, which holds the database write lock until commit.
    Raw SQL on this hot path: the ORM's query compilation cost more than the queries themselves.
    """
    sql = _head_sql(connection, "lock")
    with connection.cursor() as cursor:
        cursor.execute(sql, [AuditChainHead.SINGLETON_ID])
        row = cursor.fetchone()
        if row is None:
            # First append (or the head row was removed): start from the last entry, if any. A
            # concurrent creator makes ON CONFLICT DO NOTHING wait for it, then we lock its row.
            last = (AuditEntry.objects.using(connection.alias).order_by("-seq")
                    .values_list("seq", "hash").first())
            seq, digest = last if last else (0, GENESIS_HASH)
            AuditChainHead.objects.using(connection.alias).bulk_create(
                [AuditChainHead(id=AuditChainHead.SINGLETON_ID, last_seq=seq, last_hash=digest)],
                ignore_conflicts=True,
            )
            cursor.execute(sql, [AuditChainHead.SINGLETON_ID])
            row = cursor.fetchone()
    return int(row[0]), row[1]


# --------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str = ""
    # Details of the first broken entry (empty when ok or when the entry itself is missing).
    entry_id: int | None = None
    action: str = ""
    rule: str = ""  # gap / prev_hash / hash_mismatch / head_ahead / head_mismatch
    problem_zh: str = ""
    problem_en: str = ""
    last_seq: int | None = None
    last_hash: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


_COLUMNS = ("id", "seq", "at", "actor_id", "prev_hash", "hash", "before", "after", *TEXT_FIELDS)


def verify_chain(*, from_seq: int | None = None, batch_size: int = 2000,
                 using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    """Walk the chain in seq order, in keyset-paginated batches (bounded memory), recompute each
    hash and check seq continuity and prev_hash linkage. Returns the FIRST broken entry.

    With `from_seq`, the walk starts at that entry and trusts the stored hash of the entry before
    it. Entries committed after the walk starts (seq beyond the chain head read first) are left
    for the next run, so verify can run while the platform keeps appending.
    """
    if batch_size < 1:
        raise InvalidInput(Problem("batch_size", "min", "批大小必须大于 0", "batch_size must be positive"))
    if from_seq is not None and from_seq < 1:
        raise InvalidInput(Problem("from_seq", "min", "起始序号必须大于等于 1", "from_seq must be at least 1"))
    head = AuditChainHead.objects.using(using).filter(pk=AuditChainHead.SINGLETON_ID).first()
    entries = AuditEntry.objects.using(using)
    start = from_seq or 1
    if start == 1:
        expected_prev = GENESIS_HASH
    else:
        expected_prev = entries.filter(seq=start - 1).values_list("hash", flat=True).first()
        if expected_prev is None:
            return _broken(0, start - 1, None, "", "gap",
                           f"序号 {start - 1} 的审计记录缺失（无法从 {start} 开始校验）",
                           f"entry seq {start - 1} is missing (cannot verify from {start})")
    expected_seq = start
    checked = 0
    last_hash = expected_prev
    upper = head.last_seq if head is not None else None
    while True:
        batch = entries.filter(seq__gte=expected_seq).order_by("seq")
        if upper is not None:
            batch = batch.filter(seq__lte=upper)
        rows = list(batch.values_list(*_COLUMNS)[:batch_size])
        if not rows:
            break
        for values in rows:
            row = dict(zip(_COLUMNS, values, strict=True))
            seq = row["seq"]
            if seq != expected_seq:
                return _broken(checked, expected_seq, row["id"], row["action"], "gap",
                               f"序号 {expected_seq}–{seq - 1} 的审计记录缺失（被删除？）；下一条为序号 {seq}（id {row['id']}）",
                               f"entries seq {expected_seq}..{seq - 1} are missing (deleted?); "
                               f"next present is seq {seq} (id {row['id']}, {row['action']})")
            if row["prev_hash"] != expected_prev:
                return _broken(checked, seq, row["id"], row["action"], "prev_hash",
                               f"序号 {seq}（id {row['id']}，{row['action']}）的前一条哈希与序号 {seq - 1} 的哈希不一致"
                               "（前一条被改写、删除或插入了记录）",
                               f"entry seq {seq} (id {row['id']}, {row['action']}): prev_hash does not match the "
                               f"hash of seq {seq - 1} (a previous entry was rewritten, removed or inserted)")
            recomputed = entry_hash(
                seq=seq, at=row["at"], actor_id=row["actor_id"], prev_hash=row["prev_hash"],
                before=row["before"], after=row["after"], **{n: row[n] for n in TEXT_FIELDS},
            )
            if recomputed != row["hash"]:
                return _broken(checked, seq, row["id"], row["action"], "hash_mismatch",
                               f"序号 {seq}（id {row['id']}，{row['action']}）的内容与其哈希不符（记录被修改）",
                               f"entry seq {seq} (id {row['id']}, {row['action']}): content does not match "
                               "its hash (the row was edited)")
            checked += 1
            expected_prev = last_hash = row["hash"]
            expected_seq = seq + 1
    last_seq = expected_seq - 1
    if head is not None:
        if head.last_seq > last_seq:
            return _broken(checked, last_seq + 1, None, "", "head_ahead",
                           f"链头记录最后序号为 {head.last_seq}，但序号 {last_seq + 1} 起的审计记录缺失（末尾被删除）",
                           f"the chain head says the last seq is {head.last_seq}, but entries from seq "
                           f"{last_seq + 1} are missing (the tail was deleted)")
        if last_seq >= start and head.last_hash != last_hash:
            return _broken(checked, last_seq, None, "", "head_mismatch",
                           f"链头哈希与序号 {last_seq} 的哈希不一致",
                           f"the chain head's hash does not match the hash of seq {last_seq}")
    return VerifyResult(ok=True, checked=checked, last_seq=last_seq if last_seq >= 1 else None,
                        last_hash=last_hash if last_seq >= 1 else "")


def _broken(checked: int, seq: int, entry_id: int | None, action: str, rule: str, zh: str,
            en: str) -> VerifyResult:
    return VerifyResult(ok=False, checked=checked, first_broken_seq=seq, problem=f"{zh} / {en}",
                        entry_id=entry_id, action=action, rule=rule, problem_zh=zh, problem_en=en)
