"""The base of every `tongban` management command.

- Django runs the system checks before a command unless it says otherwise, and the URL checks import
  the whole site (the API, every view, the PDF library): about a second of start-up for a command
  that serves no page. Our commands skip them; `tongban check`, `migrate` and the servers still run
  them, and the test suite runs `check` (tests/test_cli.py).
- A database without tables (a fresh checkout before `tongban migrate`, or a wrong `DATABASE_URL`)
  is a clear message naming the fix, not a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

NOT_MIGRATED = ("数据库结构不是当前版本（尚未建表，或有未执行的迁移）：请先运行 `tongban migrate`。 / The database "
                "is not at this version's schema (no tables yet, or migrations not applied; or DATABASE_URL names "
                "the wrong one): run `tongban migrate` first.")


class TongbanCommand(BaseCommand):
    requires_system_checks: list[str] = []

    def write_json(self, data: dict, out: str | None) -> None:
        """A signed document or bundle as indented JSON: to the file `out`, or to standard output."""
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"已写入 / written: {out}")
        else:
            self.stdout.write(text)

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DatabaseError as exc:
            if _database_not_migrated():
                raise CommandError(NOT_MIGRATED) from exc
            raise


def _database_not_migrated() -> bool:
    """True when the database lacks tables or has migrations to apply (asked only after a database
    error, so a working command never pays for loading the migration graph)."""
    try:
        if connection.in_atomic_block:
            return False
        if "django_migrations" not in connection.introspection.table_names():
            return True
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return False


def read_json_file(path: str) -> dict:
    """A JSON object from a file the user named; anything else is a usage error naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"无法读取 JSON 文件 {path} / cannot read JSON file {path}: {exc}", returncode=2) from exc
    if not isinstance(data, dict):
        raise CommandError(f"{path} 不是 JSON 对象 / {path} is not a JSON object", returncode=2)
    return data


def operator_label() -> str:
    """Who ran a command, for the trail: the operating-system account (commands have no signed-in user)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"[:64]


def cli_date(value: str) -> date:
    """An argparse `type` for dates: `--on 2026-02-30` or `--on tomorrow` is a usage error naming the
    rule, never a traceback."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} 不是有效日期，应为 YYYY-MM-DD / is not a valid date, expected YYYY-MM-DD") from None
