"""Helpers for tests that run Tongban in real child processes against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

PROJECT = Path(__file__).resolve().parents[2]
TONGBAN = Path(sys.executable).with_name("tongban")


def database_url() -> str:
    """The URL of the database this test runs against (the test database, not the configured one)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "PYTEST_"))}
    env.update({"DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "tongban.settings",
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=PROJECT, capture_output=True, text=True,  # noqa: S603 - our own commands
                          timeout=timeout, check=False)
