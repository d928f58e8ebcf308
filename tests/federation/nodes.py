"""Real nodes for the multi-process tests: separate gunicorn and delivery-worker processes, separate
databases (SQLite files, or PostgreSQL databases when DATABASE_URL is PostgreSQL), introduced by
descriptors. The test process reads the nodes' databases with plain SQL (never through Django's
connection, which belongs to the test database)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from urllib.parse import urlsplit

from tongban.federation.localfed import LocalFederation, NodeSpec

FAST = {"TONGBAN_FED_RETRY_BASE_S": "0.2", "TONGBAN_FED_RETRY_MAX_S": "1", "TONGBAN_FED_LEASE_S": "3",
        "TONGBAN_FED_PULL_INTERVAL_S": "0.3", "TONGBAN_FED_HTTP_TIMEOUT_S": "10", "LOG_LEVEL": "INFO"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_base() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_db_prefix() -> str:
    """`test_<the run's database>_fed`: CI drops every database named test_<its database>… afterwards."""
    name = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "tongban"
    return f"test_{name}_fed"


def make_federation(base_dir) -> LocalFederation:
    return LocalFederation(
        base_dir=base_dir, database_url=postgres_base(), demo_data=False, periodic=False, extra_env=FAST,
        db_prefix=f"{test_db_prefix()}_{os.getpid()}", template_prefix=test_db_prefix(),
        nodes=[NodeSpec("fa", "节点甲", ["430100"], free_port()),
               NodeSpec("fb", "节点乙", ["430300"], free_port(), offers=["TESTITEM:1"]),
               NodeSpec("fc", "节点丙（只能拉取）", ["430200"], free_port(), reachable=False)])


class Nodes:
    """SQL reads of each node's database, and polling helpers."""

    def __init__(self, fed: LocalFederation):
        self.fed = fed

    def query(self, code: str, sql: str, params=()) -> list[tuple]:
        url = self.fed.database_for(code)
        if url.startswith("sqlite"):
            with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, code: str, sql: str, params=()):
        return self.query(code, sql, params)[0][0]

    def outbox(self, code: str, collab: str | None = None) -> dict:
        rows = self.query(code, "SELECT status, COUNT(*) FROM federation_outboxmessage "
                                "WHERE collab_id = %s OR %s = '' GROUP BY status", (collab or "", collab or ""))
        return {s: n for s, n in rows}

    def inbox_rows(self, code: str, collab: str) -> list[tuple]:
        return self.query(code, "SELECT message_id, collab_seq, status, duplicates FROM federation_inboxmessage "
                                "WHERE collab_id = %s ORDER BY collab_seq", (collab,))

    def counts(self, code: str) -> tuple:
        return (self.scalar(code, "SELECT COUNT(*) FROM federation_inboxmessage"),
                self.scalar(code, "SELECT COUNT(*) FROM audit_auditentry"))

    def audit(self, code: str, collab: str) -> list[tuple]:
        rows = self.query(code, "SELECT action, after FROM audit_auditentry WHERE case_ref = %s ORDER BY seq", (collab,))
        return [(a, json.loads(b) if isinstance(b, str) else b) for a, b in rows]

    def send(self, code: str, to: str, *, count: int = 1, collab: str, type_: str = "ping", payload: str = "{}"):
        self.fed.tongban(code, "federation", "send", "--to", to, "--type", type_, "--collab-id", collab,
                         "--payload", payload, "--count", str(count))

    def wait(self, predicate, *, timeout: float = 120, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
