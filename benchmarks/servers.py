"""Start-up helpers shared by the HTTP benchmarks (bench_load, bench_http): a throw-away database,
a free loopback port, and gunicorn on that port with its logs in a file.

Loopback only: every server binds 127.0.0.1 and is stopped with its whole process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(name: str, *, base: str | None = None, sqlite_dir: Path | None = None) -> tuple[str, Callable]:
    """A new database named `name` beside `base`'s (default: DATABASE_URL's), and a function that drops it.

    PostgreSQL when `base` is a postgres URL (a server-side database, dropped WITH (FORCE)); otherwise a
    SQLite file in `sqlite_dir` (default var/), removed with its -wal and -shm files."""
    base = os.environ.get("DATABASE_URL", "") if base is None else base
    if base.startswith("postgres"):
        import psycopg

        server = base.rsplit("/", 1)[0]
        admin = f"{server}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"{server}/{name}", drop
    folder = sqlite_dir or ROOT / "var"
    path = folder / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)

    def drop_file():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    drop_file()
    return f"sqlite:///{path}", drop_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving `app` (a WSGI module path) with `workers` processes on a loopback port.

    `health` is fetched until it answers below 500 (60 s at most); the logs go to `log_dir` (a pipe
    nobody reads would fill up and stall the workers)."""

    def __init__(self, env: dict, workers: int, *, app: str = "tongban.wsgi", cwd: Path = ROOT,
                 health: str = "/healthz", log_dir: Path | None = None, name: str = "bench_load"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir = log_dir or ROOT / "var"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}_gunicorn_{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning"],
            env=dict(env, LOG_LEVEL="WARNING"), cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}{health}", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not start ({app}); see {self.log_path}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
