import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tongban.audit.services import append_entry

pytestmark = pytest.mark.django_db(transaction=True)

TONGBAN = Path(sys.executable).with_name("tongban")


def _fill(n=5):
    for i in range(n):
        append_entry(action="case.step", object_id=str(i))


def test_verify_prints_ok_and_count(capsys):
    _fill(5)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert out.startswith("ok: 5 entries verified")


def test_verify_json_output(capsys):
    _fill(3)
    call_command("audit", "verify", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["checked"] == 3
    assert data["first_broken_seq"] is None and data["problem"] == ""


def test_verify_names_the_first_broken_entry(raw_sql, capsys):
    _fill(5)
    raw_sql("UPDATE {table} SET actor_label = 'mallory' WHERE seq = 3")
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify")
    message = str(caught.value)
    assert caught.value.returncode == 1
    assert "seq 3" in message and "case.step" in message
    assert "审计链已损坏" in message and "edited" in message and "被修改" in message


def test_verify_json_on_a_broken_chain(raw_sql, capsys):
    _fill(4)
    raw_sql("DELETE FROM {table} WHERE seq = 2")
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", "--json")
    assert caught.value.returncode == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["first_broken_seq"] == 2 and data["checked"] == 1
    assert "missing" in data["problem"] and "缺失" in data["problem"]


def test_bad_from_seq_is_a_usage_error():
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", "--from-seq", "0")
    assert caught.value.returncode == 2


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def _run_cli(*args):
    env = {**os.environ, "DATABASE_URL": _database_url()}
    return subprocess.run([str(TONGBAN), *args], capture_output=True, text=True, env=env, timeout=120,  # noqa: S603
                          check=False)


@pytest.mark.skipif(not TONGBAN.exists(), reason="the tongban console script is not installed in this venv")
def test_console_script_exit_codes(raw_sql):
    _fill(4)
    good = _run_cli("audit", "verify")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("ok: 4 entries verified")

    raw_sql("UPDATE {table} SET reason = 'x' WHERE seq = 2")
    bad = _run_cli("audit", "verify", "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["first_broken_seq"] == 2
    assert "seq 2" in bad.stderr

    bad_text = _run_cli("audit", "verify")
    assert bad_text.returncode == 1
    assert "seq 2" in bad_text.stderr and "序号 2" in bad_text.stderr
