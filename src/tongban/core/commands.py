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
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

NOT_MIGRATED = ("数据库尚未初始化（缺少数据表）：请先运行 `tongban migrate`。 / The database has no tables yet "
                "(or DATABASE_URL names the wrong one): run `tongban migrate` first.")


class TongbanCommand(BaseCommand):
    requires_system_checks: list[str] = []

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DatabaseError as exc:
            if _database_not_migrated():
                raise CommandError(NOT_MIGRATED) from exc
            raise


def _database_not_migrated() -> bool:
    """True when the database lacks Django's migration table (asked only after a database error)."""
    try:
        if connection.in_atomic_block:
            return False
        return "django_migrations" not in connection.introspection.table_names()
    except DatabaseError:
        return False


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
