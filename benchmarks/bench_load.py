"""Load under faults: concurrent clients against gunicorn, with kill -9 of app and runner processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m benchmarks.bench_load
    ... bench_load --seconds 60 --clients 8 --procs 1,2,4 --chaos-procs 2 --json

What it does (loopback only, bounded in time; its own throw-away database, dropped at the end):
1. Creates a database next to the one DATABASE_URL names (PostgreSQL; on SQLite a file under var/),
   migrates it and loads the demo (seven regions, their staff).
2. Scaling runs: for each process count in --procs, starts gunicorn with that many workers and drives
   it with --clients client threads for --seconds. Each client works one demo region (round robin over
   the seven) and does, in order of preference: an officer action on a task of its region's civil-
   affairs department (approve, with a fresh idempotency key, retried with the same key when the
   connection dies), a window clerk's acceptance of a submitted case, or a citizen's new application
   for 老年人优待证 (senior preferential card: draft, form, two uploads, submit). So the mix is drafts,
   submissions, acceptances and officer actions over seven regions, and every kind of audited write.
3. A chaos run with --chaos-procs workers: two `kill -9` of gunicorn workers (the master starts new
   ones) and one `kill -9` of the background runner (`tongban background`, restarted at once).
4. Checks after each run, against the database: every write the server acknowledged (2xx) is there
   (lost = 0), no case was created twice and no idempotent action took effect twice (duplicated = 0),
   no response was a 5xx, and `tongban audit verify` passes. Writes whose connection died before an
   answer are "unknown" (they may or may not have committed); they are counted, not judged.

Prints, per run: requests, writes and officer actions per second, 5xx, conflicts (409), unknowns, lost,
duplicated, audit verify; then the officer actions per second of 2 and 4 processes as ratios to 1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from benchmarks.servers import BIN, ROOT, Server, database_url

SLUGS = ["changsha", "zhuzhou", "xiangtan", "xianning", "qingpu", "wujiang", "jiashan"]
REGIONS = {"changsha": "430100", "zhuzhou": "430200", "xiangtan": "430300", "xianning": "421200",
           "qingpu": "310118", "wujiang": "320509", "jiashan": "330421"}
ITEM = "002030001000"  # 老年人优待证办理 (civil affairs), by basic code
PASSWORD = "tongban-demo"


# --- the throw-away database and the server: benchmarks/servers.py ---------------------------------------

_database_url = database_url  # the name bench_writes imports


def _env(url: str) -> dict:
    env = dict(os.environ, DATABASE_URL=url, TONGBAN_DEMO_SKIP_OTP="1", PYTHONUNBUFFERED="1")
    env.pop("TONGBAN_PROFILE", None)
    return env


def _tongban(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "tongban"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=check)


# --- processes ------------------------------------------------------------------------------------------

class Runner:
    """The background runner (`tongban background`: leased tasks and the periodic jobs), as `make run` starts it."""

    def __init__(self, env: dict):
        self.env = env
        self.proc = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "tongban"), "background"], env=self.env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def kill_and_restart(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = self._start()

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


# --- clients --------------------------------------------------------------------------------------------

def _pdf(label: str) -> bytes:
    """A small real PDF (one page with text), different for every upload."""
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text=f"Tongban load test material {label}")
    return bytes(doc.output())


def _login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    client.get("/accounts/login/")
    token = client.cookies.get("csrftoken")
    answer = client.post("/accounts/login/", data={"username": username, "password": PASSWORD,
                                                   "csrfmiddlewaretoken": token})
    if answer.status_code != 302:
        raise RuntimeError(f"login failed for {username}: {answer.status_code}")
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken")
    return client


@dataclass
class Ledger:
    """What one client was told: acknowledged writes, unknown outcomes, statuses."""

    statuses: Counter = field(default_factory=Counter)
    cases: list[str] = field(default_factory=list)  # drafts acknowledged (201)
    submitted: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    actions: list[tuple[int, str, str]] = field(default_factory=list)  # (subcase, step, key) acknowledged
    unknown_drafts: int = 0
    unknown_other: int = 0
    exhausted_actions: int = 0  # actions whose every retry died on the wire (outcome unknown)
    officer_actions: int = 0
    writes: int = 0
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)


class Client(threading.Thread):
    def __init__(self, base: str, slug: str, seed: int):
        super().__init__(daemon=True)
        self.slug, self.region, self.deadline = slug, REGIONS[slug], 0.0
        self.random = random.Random(seed)
        self.ledger = Ledger()
        self.citizen = _login(base, f"{slug}-citizen")
        self.clerk = _login(base, f"{slug}-clerk")
        self.officer = _login(base, f"{slug}-civil")

    def call(self, client: httpx.Client, method: str, url: str, **kw) -> httpx.Response | None:
        self.ledger.requests += 1
        try:
            answer = client.request(method, url, **kw)
        except httpx.TransportError:
            return None
        self.ledger.statuses[answer.status_code] += 1
        if answer.status_code >= 500:
            self.ledger.server_errors.append(f"{method} {url} {answer.status_code} {answer.text[:200]}")
        return answer

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                if self.officer_step() or self.clerk_step():
                    continue
                self.citizen_step()
            except Exception as exc:  # noqa: BLE001 - a client must keep going; the error is reported
                self.ledger.server_errors.append(f"client error: {exc!r}")
                time.sleep(0.2)

    def officer_step(self) -> bool:
        answer = self.call(self.officer, "GET", "/api/v1/tasks?limit=20")
        if answer is None or answer.status_code != 200:
            return False
        tasks = [t for t in answer.json()["items"] if t.get("status", "active") == "active"]
        if not tasks:
            return False
        task = self.random.choice(tasks)
        key = uuid.uuid4().hex
        payload = {"action": "approve", "step": task["step"], "key": key}
        for _attempt in range(5):  # a dead connection is retried with the same key: it acts once
            done = self.call(self.officer, "POST", f"/api/v1/subcases/{task['id']}/actions", json=payload)
            if done is None:
                self.ledger.unknown_other += 1
                time.sleep(0.5)
                continue
            if done.status_code == 200:
                self.ledger.actions.append((task["id"], task["step"], key))
                self.ledger.officer_actions += 1
                self.ledger.writes += 1
            return True
        self.ledger.exhausted_actions += 1
        return True

    def clerk_step(self) -> bool:
        answer = self.call(self.clerk, "GET", "/api/v1/intake-queue?limit=10")
        if answer is None or answer.status_code != 200:
            return False
        waiting = [c for c in answer.json()["items"] if c["status"] == "submitted"]
        if not waiting:
            return False
        number = self.random.choice(waiting)["number"]
        done = self.call(self.clerk, "POST", f"/api/v1/cases/{number}/accept")
        if done is None:
            self.ledger.unknown_other += 1
        elif done.status_code == 200:
            self.ledger.accepted.append(number)
            self.ledger.writes += 1
        return True

    def citizen_step(self) -> None:
        answer = self.call(self.citizen, "POST", "/api/v1/cases", json={"region": self.region, "item": ITEM})
        if answer is None:
            self.ledger.unknown_drafts += 1
            return
        if answer.status_code != 201:
            return
        case = answer.json()
        number = case["number"]
        self.ledger.cases.append(number)
        self.ledger.writes += 1
        form = _fill(case)
        if form:
            saved = self.call(self.citizen, "PATCH", f"/api/v1/cases/{number}", json={"form": form})
            if saved is None or saved.status_code != 200:
                return
            self.ledger.writes += 1
        for material in case["materials"]:
            if material["required"] and material["status"] == "missing":
                files = {"file": (f"{material['code']}.pdf", io.BytesIO(_pdf(f"{number}/{material['code']}")),
                                  "application/pdf")}
                up = self.call(self.citizen, "POST", f"/api/v1/cases/{number}/materials/{material['code']}/files",
                               files=files)
                if up is None or up.status_code != 201:
                    return
                self.ledger.writes += 1
        done = self.call(self.citizen, "POST", f"/api/v1/cases/{number}/submit")
        if done is None:
            self.ledger.unknown_other += 1
        elif done.status_code == 200:
            self.ledger.submitted.append(number)
            self.ledger.writes += 1


def _fill(case: dict) -> dict:
    """Values for the required fields the prefill left empty (only numbers can be made up here)."""
    schema = case["plan"]["form"]
    out = {}
    for name in schema.get("required", []):
        if case["form"].get(name) in (None, ""):
            kind = schema["properties"][name].get("type")
            if kind in ("number", "integer"):
                out[name] = 10
    return out


# --- checks ---------------------------------------------------------------------------------------------

def _check(env: dict, ledgers: list[Ledger], since: str) -> dict:
    """Compare what clients were told with the database (read by a `tongban shell` of the same settings)."""
    told = {
        "cases": sorted({n for led in ledgers for n in led.cases}),
        "submitted": sorted({n for led in ledgers for n in led.submitted}),
        "accepted": sorted({n for led in ledgers for n in led.accepted}),
        "actions": [[s, step, key] for led in ledgers for s, step, key in led.actions],
        "unknown_drafts": sum(led.unknown_drafts for led in ledgers),
        "since": since,
        "exhausted_actions": sum(led.exhausted_actions for led in ledgers),
    }
    script = _CHECK_SCRIPT.replace("__TOLD__", json.dumps(told))
    out = _tongban(env, "shell", "-c", script).stdout.strip().splitlines()[-1]
    found = json.loads(out)
    verify = _tongban(env, "audit", "verify", check=False)
    found["audit_verify"] = "ok" if verify.returncode == 0 else (verify.stdout + verify.stderr).strip()[-300:]
    return found


_CHECK_SCRIPT = r"""
import json
from collections import Counter
from tongban.cases.models import Case, SubCase
from tongban.audit.models import AuditEntry
told = json.loads('''__TOLD__''')
cases = {c.number: c for c in Case.objects.filter(number__in=told["cases"] + told["submitted"] + told["accepted"])}
lost = [n for n in told["cases"] if n not in cases]
lost += [n for n in told["submitted"] if n not in cases or cases[n].status == "draft"]
lost += [n for n in told["accepted"] if n not in cases or cases[n].accepted_on is None]
# Every acknowledged action left exactly one trail entry for that sub-case leaving that step.
subs = {s.pk: f"{s.case.number}/{s.key}" for s in SubCase.objects.select_related("case").filter(
    pk__in=[a[0] for a in told["actions"]])}
entries = Counter()
for object_id, before in AuditEntry.objects.filter(action="case.subcase_approve", object_id__in=list(subs.values())) \
        .values_list("object_id", "before"):
    entries[(object_id, (before or {}).get("step"))] += 1
lost_actions = sum(entries[(subs.get(sub), step)] == 0 for sub, step, _key in told["actions"])
# Every approval of the run is an acknowledged action, or one whose answer never came: more is a duplicate.
approvals = AuditEntry.objects.filter(action="case.subcase_approve", at__gte=told["since"]).count()
duplicated_actions = max(0, approvals - len(told["actions"]) - told["exhausted_actions"])
load_users = ["%s-citizen" % s for s in %SLUGS%]
drafts = Case.objects.filter(filed_by__username__in=load_users, created_at__gte=told["since"]).count()
extra = max(0, drafts - len(told["cases"]) - told["unknown_drafts"])
print(json.dumps({"lost": len(lost) + lost_actions, "duplicated": duplicated_actions + extra,
                  "cases_in_db": drafts}))
""".replace("%SLUGS%", json.dumps(SLUGS))


# --- runs -----------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    name: str
    processes: int
    seconds: float
    ledgers: list[Ledger]
    check: dict
    kills: list[str]

    def total(self, attr: str) -> int:
        return sum(getattr(led, attr) for led in self.ledgers)

    def summary(self) -> dict:
        statuses = Counter()
        for led in self.ledgers:
            statuses.update(led.statuses)
        return {
            "run": self.name, "processes": self.processes, "seconds": round(self.seconds, 1),
            "requests_s": round(self.total("requests") / self.seconds, 1),
            "writes_s": round(self.total("writes") / self.seconds, 1),
            "officer_actions_s": round(self.total("officer_actions") / self.seconds, 2),
            "server_errors": sum(n for code, n in statuses.items() if code >= 500),
            "conflicts_409": statuses.get(409, 0),
            "unknown": self.total("unknown_drafts") + self.total("unknown_other"),
            "lost": self.check["lost"], "duplicated": self.check["duplicated"],
            "audit_verify": self.check["audit_verify"], "kills": self.kills,
            "first_errors": [e for led in self.ledgers for e in led.server_errors][:5],
        }


def run(env: dict, *, name: str, processes: int, clients: int, seconds: float, chaos: bool) -> RunResult:
    server = Server(env, processes)
    runner = Runner(env)
    kills: list[str] = []
    since = datetime.now(UTC).isoformat()
    try:
        threads = [Client(server.url, SLUGS[i % len(SLUGS)], seed=i) for i in range(clients)]  # sign in first
        start = time.monotonic()
        for t in threads:
            t.deadline = start + seconds
            t.start()
        if chaos:
            plan = [(seconds / 3, "app"), (seconds / 2, "runner"), (2 * seconds / 3, "app")]
            for at, what in plan:
                time.sleep(max(0.0, start + at - time.monotonic()))
                if what == "app":
                    pids = server.worker_pids()
                    if pids:
                        victim = random.choice(pids)
                        os.kill(victim, signal.SIGKILL)
                        kills.append(f"app worker {victim} at {at:.0f}s")
                else:
                    runner.kill_and_restart()
                    kills.append(f"runner at {at:.0f}s")
        for t in threads:
            t.join(timeout=seconds + 120)
        elapsed = time.monotonic() - start
    finally:
        runner.stop()
        server.stop()
    ledgers = [t.ledger for t in threads]
    return RunResult(name, processes, elapsed, ledgers, _check(env, ledgers, since), kills)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_load", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--procs", default="1,2,4", help="app process counts of the scaling runs")
    parser.add_argument("--chaos-procs", type=int, default=2, help="app processes of the chaos run (0: none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(sys.argv[2:] if argv is None and sys.argv[0].endswith("__main__.py") else argv)

    url, drop = database_url(f"tongban_load_{os.getpid()}")
    env = _env(url)
    results: list[RunResult] = []
    try:
        _tongban(env, "migrate", "--no-input")
        _tongban(env, "demo", "load")
        for n in [int(p) for p in args.procs.split(",") if p]:
            results.append(run(env, name=f"{n} app process(es)", processes=n, clients=args.clients,
                               seconds=args.seconds, chaos=False))
        if args.chaos_procs:
            results.append(run(env, name="chaos: 2 app kills, 1 runner kill", processes=args.chaos_procs,
                               clients=args.clients, seconds=args.seconds, chaos=True))
    finally:
        drop()
    summaries = [r.summary() for r in results]
    scaling = [s for s in summaries if not s["kills"] and not s["run"].startswith("chaos")]
    base = next((s["officer_actions_s"] for s in scaling if s["processes"] == 1), None)
    for s in scaling:
        s["officer_actions_ratio_to_1"] = round(s["officer_actions_s"] / base, 2) if base else None
    if args.json:
        print(json.dumps({"database": url.split("://")[0], "clients": args.clients, "runs": summaries},
                         ensure_ascii=False, indent=2))
        return
    print(f"\n## load under faults ({url.split('://')[0]}, {args.clients} clients, {args.seconds:.0f} s per run)")
    print(f"{'run':<36} {'req/s':>7} {'writes/s':>9} {'officer/s':>10} {'x1':>5} {'5xx':>5} {'409':>5} "
          f"{'unknown':>8} {'lost':>5} {'dup':>5}  audit")
    for s in summaries:
        ratio = s.get("officer_actions_ratio_to_1")
        print(f"{s['run']:<36} {s['requests_s']:>7} {s['writes_s']:>9} {s['officer_actions_s']:>10} "
              f"{ratio if ratio is not None else '-':>5} {s['server_errors']:>5} {s['conflicts_409']:>5} "
              f"{s['unknown']:>8} {s['lost']:>5} {s['duplicated']:>5}  {s['audit_verify']}")
        for e in s["first_errors"]:
            print(f"    {e}")
        if s["kills"]:
            print(f"    kills: {', '.join(s['kills'])}")



if __name__ == "__main__":
    main()
