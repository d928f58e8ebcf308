"""A local federation on one machine (docs/federation.md §6): several nodes, each with its own database
and its own processes (a gunicorn web server, a delivery worker, optionally the periodic runner),
introduced to each other by descriptors. Used by `tongban federation demo`, the tests and the
benchmark. Loopback addresses only.

The first node's database is migrated once and copied (SQLite file copy, or PostgreSQL `CREATE
DATABASE … TEMPLATE`), keyed by a digest of the migration files so that later runs reuse it."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings

HOST = "127.0.0.1"


@dataclass
class NodeSpec:
    code: str
    name: str
    regions: list[str]
    port: int
    offers: list[str] = field(default_factory=list)  # extra offered items "CODE[:VERSION]" (nodes without catalogue)
    reachable: bool = True

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


DEMO_NODES = [
    NodeSpec("changsha", "长沙市政务服务节点", ["430100"], 8601),
    NodeSpec("zhuzhou", "株洲市政务服务节点", ["430200"], 8602),
    NodeSpec("xiangtan", "湘潭市政务服务节点", ["430300"], 8603),
]


def _bin() -> str:
    return str(Path(sys.executable).with_name("tongban"))


def migrations_digest() -> str:
    src = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for path in sorted(src.glob("*/migrations/*.py")):
        digest.update(path.relative_to(src).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class LocalFederation:
    def __init__(self, *, base_dir: Path | None = None, database_url: str = "", nodes: list[NodeSpec] | None = None,
                 demo_data: bool = True, periodic: bool = True, extra_env: dict | None = None,
                 db_prefix: str = "tongban_fed", template_prefix: str = ""):
        # Not under VAR_DIR: a shell that acts as one node (its TONGBAN_VAR_DIR) still finds the federation.
        default = os.environ.get("TONGBAN_FED_DEMO_DIR") or Path(settings.PROJECT_DIR) / "var" / "federation"
        self.base_dir = Path(base_dir or default).resolve()
        self.database_url = database_url.rstrip("/")
        self.nodes = {n.code: n for n in (nodes or DEMO_NODES)}
        self.demo_data = demo_data
        self.periodic = periodic
        self.extra_env = extra_env or {}
        self.db_prefix = db_prefix
        self.template_prefix = template_prefix or db_prefix

    def codes(self) -> list[str]:
        return list(self.nodes)

    def node_dir(self, code: str) -> Path:
        return self.base_dir / code

    def database_for(self, code: str) -> str:
        if self.database_url:
            return f"{self.database_url}/{self.db_prefix}_{code}"
        return f"sqlite:///{self.node_dir(code) / 'db.sqlite3'}"

    def node_env(self, code: str) -> dict:
        node = self.nodes[code]
        return {
            "DJANGO_SETTINGS_MODULE": "tongban.settings",
            "TONGBAN_NODE_CODE": code, "TONGBAN_NODE_NAME": node.name, "TONGBAN_NODE_URL": node.url,
            "TONGBAN_NODE_REGIONS": ",".join(node.regions), "TONGBAN_NODE_REACHABLE": "1" if node.reachable else "0",
            "TONGBAN_VAR_DIR": str(self.node_dir(code)), "TONGBAN_MEDIA_ROOT": str(self.node_dir(code) / "media"),
            "DATABASE_URL": self.database_for(code), "TONGBAN_DEMO": "1", "ALLOWED_HOSTS": f"{HOST},localhost",
            **{k: str(v) for k, v in self.extra_env.items()},
        }

    def env(self, code: str) -> dict:
        return {**os.environ, **self.node_env(code)}

    def tongban(self, code: str, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `tongban ARGS` as node `code`."""
        result = subprocess.run([_bin(), *args], env=self.env(code), capture_output=True, text=True,  # noqa: S603
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"tongban {' '.join(args)} on {code} failed ({result.returncode}):\n"
                               f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return result

    def status(self, code: str) -> dict:
        return json.loads(self.tongban(code, "federation", "status", "--json").stdout)

    # --- databases ---------------------------------------------------------------------------------

    def _pg(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.database_url}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def _template(self) -> str:
        """A migrated, empty database to copy: path (SQLite) or database name (PostgreSQL). Built once
        per migration state; test workers in parallel (xdist) take a file lock so that only one builds
        it and the others wait and reuse it."""
        tag = migrations_digest()
        lock_dir = Path(settings.VAR_DIR)
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"federation-template-{tag}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.database_url:
                name = f"{self.template_prefix}_tpl_{tag}"
                marker = lock_dir / f"federation-template-{name}.ok"
                url = f"{self.database_url}/{name}"
                if not marker.exists() or not self._pg_exists(name):
                    self._pg(f'DROP DATABASE IF EXISTS "{name}"')
                    self._pg(f'CREATE DATABASE "{name}"')
                    self._migrate(url, lock_dir)
                    marker.write_text("ok")
                return name
            path = lock_dir / f"federation-template-{tag}.sqlite3"
            if not path.exists():
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.unlink(missing_ok=True)
                self._migrate(f"sqlite:///{tmp}", lock_dir)
                _checkpoint(tmp)
                tmp.replace(path)
            return str(path)

    def _pg_exists(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(f"{self.database_url}/postgres", autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def _migrate(self, url: str, var_dir: Path) -> None:
        env = {**os.environ, "DATABASE_URL": url, "TONGBAN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "tongban.settings"}
        subprocess.run([_bin(), "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=600)  # noqa: S603

    def create_databases(self) -> None:
        template = self._template()
        for code in self.nodes:
            directory = self.node_dir(code)
            directory.mkdir(parents=True, exist_ok=True)
            if self.database_url:
                name = f"{self.db_prefix}_{code}"
                self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self._pg(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{directory / 'db.sqlite3'}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(template, directory / "db.sqlite3")

    def drop_databases(self) -> None:
        if self.database_url:
            for code in self.nodes:
                self._pg(f'DROP DATABASE IF EXISTS "{self.db_prefix}_{code}" WITH (FORCE)')

    # --- set-up -------------------------------------------------------------------------------------

    def setup(self, log=None) -> None:
        """Fresh databases, demo data per node, keys, descriptors exchanged (trust on first use is not
        used: each import checks the fingerprint the exporting node printed)."""
        say = log or (lambda _m: None)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        say(f"databases under {self.database_url or self.base_dir}")
        self.create_databases()
        fingerprints = {}
        procs = {}
        for code, node in self.nodes.items():  # demo data and descriptors, the nodes in parallel
            script = []
            if self.demo_data:
                script.append(f"{_bin()} demo load --regions {','.join(node.regions)} >/dev/null")
            offers = " ".join(f"--offer {o}" for o in node.offers)
            script.append(f"{_bin()} federation export-descriptor --out {self.node_dir(code) / 'descriptor.json'} {offers}")
            procs[code] = subprocess.Popen(["/bin/bash", "-ec", " && ".join(script)],  # noqa: S603
                                           env=self.env(code), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for code, proc in procs.items():
            out, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"setting up {code} failed:\n{out[-2000:]}\n{err[-4000:]}")
            fingerprints[code] = out.strip().splitlines()[-1].split()[-1]
            say(f"{code}: demo data and descriptor ready (key fingerprint {fingerprints[code][:16]}…)")
        procs = {}
        for code, node in self.nodes.items():  # each node imports the others' descriptors, in parallel
            others = [c for c in self.nodes if c != code]
            if not others:
                continue
            argv = [_bin(), "federation", "import-descriptor",
                    *[str(self.node_dir(o) / "descriptor.json") for o in others]]
            for other in others:
                argv += ["--fingerprint", fingerprints[other]]
            for offer in node.offers:
                argv += ["--offer", offer]
            procs[code] = subprocess.Popen(argv, env=self.env(code), stdout=subprocess.PIPE,  # noqa: S603
                                           stderr=subprocess.PIPE, text=True)
        for code, proc in procs.items():
            out, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"introducing peers to {code} failed:\n{out}\n{err[-4000:]}")
        (self.base_dir / "federation.json").write_text(json.dumps(self.describe(), ensure_ascii=False, indent=2))
        say("peers introduced")

    # --- processes ----------------------------------------------------------------------------------

    def _pids_file(self, code: str) -> Path:
        return self.node_dir(code) / "pids.json"

    def pids(self, code: str) -> dict:
        try:
            return json.loads(self._pids_file(code).read_text())
        except (OSError, ValueError):
            return {}

    def _spawn(self, code: str, name: str, argv: list[str], extra_env: dict | None = None) -> int:
        log = open(self.node_dir(code) / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(argv, env={**self.env(code), **(extra_env or {})}, stdout=log, stderr=log,  # noqa: S603
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return proc.pid

    def start_worker(self, code: str, extra_env: dict | None = None) -> int:
        pid = self._spawn(code, "deliver", [_bin(), "federation", "deliver"], extra_env)
        self._save_pid(code, "deliver", pid)
        return pid

    def _save_pid(self, code: str, name: str, pid: int) -> None:
        pids = self.pids(code)
        pids[name] = pid
        self._pids_file(code).write_text(json.dumps(pids))

    def start(self, code: str, *, wait: bool = True, worker: bool = True) -> None:
        self.stop(code)
        node = self.nodes[code]
        web = self._spawn(code, "web", [str(Path(sys.executable).with_name("gunicorn")), "tongban.wsgi:application",
                                        "--bind", f"{HOST}:{node.port}", "--workers", "1", "--threads", "4",
                                        "--worker-class", "gthread", "--timeout", "120", "--graceful-timeout", "5"])
        self._save_pid(code, "web", web)
        if worker:
            self.start_worker(code)
        if self.periodic:
            self._save_pid(code, "periodic", self._spawn(code, "periodic", [_bin(), "periodic"]))
        if wait:
            self.wait_ready(code)

    def wait_ready(self, code: str, timeout: float = 60) -> None:
        url = f"{self.nodes[code].url}/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"node {code} did not answer at {url} within {timeout} s "
                           f"(see {self.node_dir(code) / 'web.log'})")

    def kill(self, code: str, name: str, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        """Stop one process of a node (its whole process group), SIGKILL if it outlives `timeout`."""
        pids = self.pids(code)
        pid = pids.pop(name, None)
        if pid is None:
            return
        _signal_group(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self._pids_file(code).write_text(json.dumps(pids))

    def stop(self, code: str) -> None:
        for name in list(self.pids(code)):
            self.kill(code, name)

    def up(self, log=None) -> dict:
        if not (self.base_dir / "federation.json").exists() or any(
                not (self.node_dir(c) / "descriptor.json").exists() for c in self.nodes):
            self.setup(log=log)
        for code in self.nodes:
            self.start(code, wait=False)
        for code in self.nodes:
            self.wait_ready(code)
        return self.describe()

    def down(self) -> None:
        for code in self.nodes:
            self.stop(code)

    def describe(self) -> dict:
        return {"base_dir": str(self.base_dir), "nodes": [
            {"code": c, "name": n.name, "regions": n.regions, "url": n.url, "env": self.node_env(c),
             "pids": self.pids(c)} for c, n in self.nodes.items()]}


def _checkpoint(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child (started by another `tongban federation demo` run)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
