"""The `tongban` command line as a user meets it: quick to start, clear when the database is missing."""

import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from tongban.core.commands import TongbanCommand

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
from tongban.cli import main
try:
    main(["catalog", "validate", "data/demo"])
except SystemExit as exc:
    print("exit", exc.code)
finally:
    heavy = [m for m in ("tongban.api.main", "tongban.urls", "fpdf", "httpx") if m in sys.modules]
    print("heavy:", ",".join(heavy) or "none")
"""


def test_system_checks_pass():
    call_command("check")


def test_every_tongban_command_skips_the_url_checks():
    from django.core.management import get_commands, load_command_class

    ours = {name: app for name, app in get_commands().items() if app.startswith("tongban.")}
    assert {"catalog", "workdays", "audit", "plan"} <= set(ours)
    for name, app in ours.items():
        command = load_command_class(app, name)
        assert isinstance(command, TongbanCommand), name


def test_a_command_on_an_unmigrated_database_says_migrate_and_imports_no_site(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
           "TONGBAN_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert "tongban migrate" in done.stderr
    assert "exit 1" in done.stdout
    # The command ran without the URL checks: neither the site, the API nor the PDF library was loaded.
    assert "heavy: none" in done.stdout, done.stdout


def test_a_database_with_migrations_to_apply_is_told_to_migrate(tmp_path):
    """A database of an older version (here: one app migrated back) gets the same message, not the
    traceback of a missing table."""
    db = tmp_path / "old.sqlite3"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{db}", "TONGBAN_VAR_DIR": str(tmp_path)}
    tongban = Path(sys.executable).with_name("tongban")
    for argv in (["migrate", "-v", "0"], ["migrate", "workdays", "zero", "-v", "0"]):
        done = subprocess.run([str(tongban), *argv], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run([str(tongban), "workdays", "add", "--from", "2026-09-28", "--days", "20"],  # noqa: S603
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "tongban migrate" in done.stderr
