"""Audited writes per second with 1, 2 and 4 app processes (issues 12 and 16), with a light load generator.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m benchmarks.bench_writes
    ... bench_writes --seconds 30 --rounds 3 --procs 1,2,4 --clients 8 --per-client 6 --json

What it does (loopback only, bounded in time; its own throw-away database, dropped at the end):
1. Creates and migrates a database beside DATABASE_URL's, loads the demo (seven regions) and, through
   the services, makes `--per-client` accepted 老年人优待证 (senior card) cases for every client, each
   client in one region (round robin over the seven), their civil-affairs sub-case at an officer step.
2. For each round and each process count (interleaved, so drift hits every count alike): gunicorn with
   that many sync workers plus `tongban background` (which also signs audit anchors), driven for
   --seconds by --clients client PROCESSES. A client is a plain http.client loop on one keep-alive
   connection (no HTTP library, no PDF making: a few hundred microseconds of CPU per request), signed
   in as its region's civil-affairs officer, cycling over its own sub-cases: start a special procedure
   (特别程序: an officer action with an idempotency key, a signed notice and an audit entry), then end it
   (another audited officer action). Clients never share a sub-case, so 409s mean a bug.
3. Checks after each run: 5xx = 0; every acknowledged action left its audit entry (lost = 0) and none
   left two (duplicated = 0); `tongban audit verify` passes (anchors included).

Prints, per run: officer actions (= audited writes) per second, audit entries per second, p50/p99
latency, CPU use of the machine and of the app workers; then per process count the median over rounds
and the median of the same-round ratios to 1 process; and the load average before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from benchmarks.bench_load import REGIONS, SLUGS, Runner, Server, _database_url, _env, _tongban

PASSWORD = "tongban-demo"
ITEM = "002030001000"  # 老年人优待证办理 (civil affairs), by basic code
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- preparing the sub-cases --------------------------------------------------------------------------------

_PREPARE = r"""
import json
from tongban.accounts.models import User
from tongban.cases import services, simulation
from tongban.cases.models import SubCase
plan = json.loads('''__PLAN__''')
out = []
for slug, region, count in plan:
    citizen = User.objects.get(username=f"{slug}-citizen")
    subs = []
    for _ in range(count):
        case = services.start_case(actor=citizen, region_code=region, item_code="__ITEM__", prefill=False)
        case = simulation.fill_form(case, citizen)
        simulation.hand_in_materials(case, citizen)
        services.submit_case(case=case, actor=citizen)
        services.accept_case(case=case, actor=simulation.clerk_for(case))
        sub = SubCase.objects.get(case=case)
        sub = services.act(subcase=sub, actor=simulation.officer_for(sub), action="approve", step=sub.step)
        subs.append([sub.pk, sub.step])  # at review (审查), where a special procedure may start
    out.append(subs)
print("PREPARED " + json.dumps(out))
"""


def prepare(env: dict, clients: int, per_client: int) -> list[list[list]]:
    """Sub-cases (id, step) for each client, made through the services and
    approved past the department's receipt step."""
    plan = [[SLUGS[i % len(SLUGS)], REGIONS[SLUGS[i % len(SLUGS)]], per_client] for i in range(clients)]
    script = _PREPARE.replace("__PLAN__", json.dumps(plan)).replace("__ITEM__", ITEM)
    done = _tongban(env, "shell", "-c", script)
    line = next(x for x in done.stdout.splitlines() if x.startswith("PREPARED "))
    return json.loads(line[len("PREPARED "):])


# --- the client: a process with one keep-alive connection ---------------------------------------------------

class Http:
    """Just enough of a browser: keep-alive connection, cookies, CSRF header."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        try:
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None, b""
        for value in answer.headers.get_all("Set-Cookie") or []:
            match = re.match(r"\s*([^=;]+)=([^;]*)", value)
            if match:
                self.cookies[match.group(1)] = match.group(2)
        if answer.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return answer.status, data

    def login(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        body = urlencode({"username": username, "password": PASSWORD,
                          "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
        status, _ = self.request("POST", "/accounts/login/", body,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login failed for {username}: {status}")

    def post_json(self, path: str, payload: dict):
        return self.request("POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def client_main(port: int, slug: str, subs: list, start_at: float, stop_at: float, out) -> None:
    """One client process: sign in, wait for the common start, cycle special / end-special over `subs`."""
    web = Http(port)
    web.login(f"{slug}-civil")
    tally = {"acked": 0, "acked_total": 0, "unknown": 0, "statuses": {}, "latencies": [], "errors": []}
    i = 0
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < stop_at:
        sub_id, step = subs[i % len(subs)]
        i += 1
        key = uuid.uuid4().hex
        calls = [(f"/api/v1/subcases/{sub_id}/actions",
                  {"action": "special", "step": step, "procedure": "expert", "reason": "专家评审 load", "key": key}),
                 (f"/api/v1/subcases/{sub_id}/end-special", {"reason": "评审结束 load"})]
        # A cycle is always finished (the next run finds its sub-cases free); an action counts towards the
        # rate only if it was answered within the window, and towards the trail check in any case.
        for path, payload in calls:
            for _attempt in range(5):  # a dead connection: the same request again (the key makes it act once)
                began = time.perf_counter()
                status, data = web.post_json(path, payload)
                if status is None:
                    tally["unknown"] += 1
                    time.sleep(0.2)
                    continue
                in_window = time.time() < stop_at
                if in_window:
                    tally["latencies"].append(time.perf_counter() - began)
                    tally["statuses"][str(status)] = tally["statuses"].get(str(status), 0) + 1
                if status == 200:
                    tally["acked_total"] += 1
                    tally["acked"] += in_window
                elif len(tally["errors"]) < 3:
                    tally["errors"].append(f"{path} {status} {data[:200]!r}")
                break
    out.put(tally)


# --- measuring CPU ------------------------------------------------------------------------------------------

def _machine_cpu() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _proc_cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])
        except OSError:
            pass
    return total / CLK_TCK


class WaitSampler(threading.Thread):
    """Samples pg_stat_activity of the benchmark database every 0.1 s: what its active backends wait on.
    `Lock/transactionid` or `Lock/tuple` is a row lock (a serialisation point); no wait event means on the
    CPU (or waiting for it); `IO/WALSync` or `LWLock/WALWrite` is the commit's flush."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop, self.counts, self.samples = url, threading.Event(), Counter(), 0
        self.database = url.rsplit("/", 1)[1]

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.1):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '') FROM pg_stat_activity "
                    "WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()", [self.database]).fetchall()
                self.samples += 1
                for kind, event in rows:
                    self.counts[f"{kind}/{event}" if event else kind] += 1

    def summary(self) -> dict:
        """Average number of backends in each state per sample (top five)."""
        n = max(1, self.samples)
        return {k: round(v / n, 2) for k, v in self.counts.most_common(5)}


# --- one run -----------------------------------------------------------------------------------------------

@dataclass
class Run:
    processes: int
    round: int
    seconds: float
    acked: int
    unknown: int
    statuses: dict
    latencies: list = field(repr=False)
    entries: int = 0
    check: dict = field(default_factory=dict)
    machine_busy: float = 0.0
    app_cpu_s: float = 0.0
    errors: list = field(default_factory=list)
    waits: dict = field(default_factory=dict)
    acked_total: int = 0

    def summary(self) -> dict:
        lat = sorted(self.latencies) or [0.0]
        return {
            "processes": self.processes, "round": self.round, "seconds": round(self.seconds, 1),
            "officer_actions_s": round(self.acked / self.seconds, 2),
            "audit_entries_s": round(self.entries / self.seconds, 2),
            "p50_ms": round(1000 * lat[len(lat) // 2], 1), "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 1),
            "server_errors": sum(n for code, n in self.statuses.items() if int(code) >= 500),
            "conflicts_409": self.statuses.get("409", 0), "unknown": self.unknown,
            "machine_cpu_busy": round(self.machine_busy, 2), "app_cpu_cores": round(self.app_cpu_s / self.seconds, 2),
            "db_backends_waiting_on": self.waits, **self.check, "first_errors": self.errors[:3],
        }


_CHECK = r"""
import json
from tongban.audit.models import AuditEntry
since = '''__SINCE__'''
n = AuditEntry.objects.filter(at__gte=since, action__in=["case.subcase_special", "case.special_ended"]).count()
other = AuditEntry.objects.filter(at__gte=since).count()
print("CHECK " + json.dumps({"actions": n, "entries": other}))
"""


def _actions_trailed(env: dict, since: str) -> dict:
    done = _tongban(env, "shell", "-c", _CHECK.replace("__SINCE__", since))
    line = next(x for x in done.stdout.splitlines() if x.startswith("CHECK "))
    return json.loads(line[len("CHECK "):])


def run_once(env: dict, *, processes: int, round_no: int, prepared: list, seconds: float) -> Run:
    server = Server(env, processes)
    runner = Runner(env)
    try:
        since = datetime.now(UTC).isoformat()
        queue = multiprocessing.Queue()
        start_at = time.time() + 3.0  # every client signed in before the clock starts
        stop_at = start_at + seconds
        clients = [multiprocessing.Process(target=client_main, args=(
            server.port, SLUGS[i % len(SLUGS)], prepared[i], start_at, stop_at, queue)) for i in range(len(prepared))]
        for c in clients:
            c.start()
        time.sleep(max(0.0, start_at - time.time()))
        sampler = WaitSampler(env["DATABASE_URL"]) if env["DATABASE_URL"].startswith("postgres") else None
        if sampler:
            sampler.start()
        busy0, total0 = _machine_cpu()
        app0 = _proc_cpu(server.worker_pids())
        time.sleep(max(0.0, stop_at - time.time()))
        busy1, total1 = _machine_cpu()
        app1 = _proc_cpu(server.worker_pids())
        if sampler:
            sampler.stop.set()
            sampler.join(timeout=5)
        tallies = [queue.get(timeout=120) for _ in clients]
        for c in clients:
            c.join(timeout=30)
    finally:
        runner.stop()
        server.stop()
    statuses: dict = {}
    for t in tallies:
        for code, n in t["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    run = Run(processes=processes, round=round_no, seconds=seconds, acked=sum(t["acked"] for t in tallies),
              unknown=sum(t["unknown"] for t in tallies), statuses=statuses,
              latencies=[x for t in tallies for x in t["latencies"]],
              machine_busy=(busy1 - busy0) / max(1, total1 - total0), app_cpu_s=app1 - app0,
              errors=[e for t in tallies for e in t["errors"]], waits=sampler.summary() if sampler else {},
              acked_total=sum(t["acked_total"] for t in tallies))
    trailed = _actions_trailed(env, since)
    run.entries = trailed["entries"]
    verify = _tongban(env, "audit", "verify", check=False)
    run.check = {
        "lost": max(0, run.acked_total - trailed["actions"]),
        "duplicated": max(0, trailed["actions"] - run.acked_total - run.unknown),
        "audit_verify": "ok" if verify.returncode == 0 else (verify.stdout + verify.stderr).strip()[-300:],
    }
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_writes", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--procs", default="1,2,4", help="app process counts")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=6, help="sub-cases each client cycles over")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(sys.argv[2:] if argv is None and sys.argv[0].endswith("__main__.py") else argv)
    procs = [int(p) for p in args.procs.split(",") if p]

    url, drop = _database_url(f"tongban_writes_{os.getpid()}")
    env = _env(url)
    runs: list[Run] = []
    load_before = os.getloadavg()
    try:
        _tongban(env, "migrate", "--no-input")
        _tongban(env, "demo", "load")
        prepared = prepare(env, args.clients, args.per_client)
        for r in range(1, args.rounds + 1):
            for n in procs:
                runs.append(run_once(env, processes=n, round_no=r, prepared=prepared, seconds=args.seconds))
                if not args.json:
                    s = runs[-1].summary()
                    print(f"round {r}, {n} app process(es): {s['officer_actions_s']} actions/s, "
                          f"{s['audit_entries_s']} entries/s, p50 {s['p50_ms']} ms, machine CPU "
                          f"{s['machine_cpu_busy']:.0%}, app workers {s['app_cpu_cores']} cores, "
                          f"5xx {s['server_errors']}, lost {s['lost']}, dup {s['duplicated']}, "
                          f"audit {s['audit_verify']}; db backends: {s['db_backends_waiting_on']}", flush=True)
                    for e in s["first_errors"]:
                        print(f"    {e}", flush=True)
    finally:
        drop()
    load_after = os.getloadavg()
    summaries = [r.summary() for r in runs]
    by_n = {n: [s for s in summaries if s["processes"] == n] for n in procs}
    base = procs[0]
    table = []
    for n in procs:
        rates = [s["officer_actions_s"] for s in by_n[n]]
        ratios = [s["officer_actions_s"] / b["officer_actions_s"] for s, b in zip(by_n[n], by_n[base], strict=True)
                  if b["officer_actions_s"]]
        table.append({
            "processes": n, "officer_actions_s_median": round(statistics.median(rates), 2),
            "audit_entries_s_median": round(statistics.median(s["audit_entries_s"] for s in by_n[n]), 2),
            "ratio_to_1_median": round(statistics.median(ratios), 2) if ratios else None,
            "ratios": [round(x, 2) for x in ratios],
            "machine_cpu_busy_median": round(statistics.median(s["machine_cpu_busy"] for s in by_n[n]), 2),
            "app_cpu_cores_median": round(statistics.median(s["app_cpu_cores"] for s in by_n[n]), 2),
            "p50_ms_median": round(statistics.median(s["p50_ms"] for s in by_n[n]), 1),
            "server_errors": sum(s["server_errors"] for s in by_n[n]), "lost": sum(s["lost"] for s in by_n[n]),
            "duplicated": sum(s["duplicated"] for s in by_n[n]),
            "audit_verify": "ok" if all(s["audit_verify"] == "ok" for s in by_n[n]) else "FAILED",
        })
    report = {"database": url.split("://")[0], "clients": args.clients, "seconds": args.seconds,
              "rounds": args.rounds, "cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in load_after], "summary": table, "runs": summaries}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"\n## audited writes (officer actions) by app processes ({report['database']}, {args.clients} client "
          f"processes over 7 regions, {args.seconds:.0f} s x {args.rounds} rounds, {os.cpu_count()} cores)")
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    print(f"{'procs':>5} {'actions/s':>10} {'entries/s':>10} {'x1 (median of same-round ratios)':>33} "
          f"{'machine CPU':>12} {'app cores':>10} {'p50 ms':>7} {'5xx':>4} {'lost':>5} {'dup':>4}  audit")
    for t in table:
        print(f"{t['processes']:>5} {t['officer_actions_s_median']:>10} {t['audit_entries_s_median']:>10} "
              f"{str(t['ratio_to_1_median']) + ' ' + str(t['ratios']):>33} {t['machine_cpu_busy_median']:>12.0%} "
              f"{t['app_cpu_cores_median']:>10} {t['p50_ms_median']:>7} {t['server_errors']:>4} {t['lost']:>5} "
              f"{t['duplicated']:>4}  {t['audit_verify']}")


if __name__ == "__main__":
    main()
