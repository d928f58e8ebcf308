"""HTTP side by side: Tongban (production profile) and a bare Django twin under gunicorn, same run.

    .venv/bin/python -m benchmarks bench_http [--seconds S] [--rounds N] [--db sqlite|postgres] [--json]
    ... bench_http --only home,cases --seconds 1 --rounds 1      # a subset of endpoints

What it does (loopback only, bounded in time; its own throw-away databases and temp dir, removed at the
end, also on Ctrl-C or failure):
1. Tongban: a new database (a SQLite file in a temp dir, or a `tongban_hbench_<pid>` PostgreSQL database
   beside DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432), migrated, demo loaded,
   static files collected; gunicorn with TONGBAN_PROFILE=production (a generated SECRET_KEY and OIDC key,
   TONGBAN_DEMO=1 so the demo accounts exist), --workers processes.
2. The bare twin: a Django project written to the temp dir at run time (no middleware, no installed app
   but its own one-model app, the same database engine and connection settings as Tongban: on SQLite
   WAL, IMMEDIATE transactions and a connection per request; on PostgreSQL CONN_MAX_AGE 60), with
   `/hello`, `/insert` (two rows in one transaction) and `/read` (a row by primary key), under gunicorn
   with the same number of workers.
3. Signed-in sessions made in-process (staff with a confirmed TOTP device, as after the second factor;
   the production profile never skips it), sent as cookies with a CSRF token and the proxy's
   `X-Forwarded-Proto: https` header (production redirects plain HTTP).
4. Each endpoint is fetched once first and must answer 2xx (else the run stops, naming it). Then,
   --rounds times: the three twin endpoints, then every Tongban endpoint, each for --seconds, driven by
   `wrk` (--threads, --connections) when installed, else by Python client processes with persistent
   connections. Each endpoint's ratio is its req/s over its twin's in the same round (hello for pages,
   the two-row insert for writes, the read by primary key for reads); the figure is the median of the
   rounds' ratios. req/s, p50 and p99 are medians over rounds too.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from benchmarks.servers import BIN, DEFAULT_POSTGRES, ROOT, Server, database_url

ITEM = "002030001000"  # 老年人优待证办理 (civil affairs), by basic code; a citizen's draft
TWINS = {"page": "hello", "write": "insert", "read": "read"}


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    kind: str  # page | read | write: which twin it is compared to
    who: str = ""  # whose session ("" = anonymous)
    body: dict | None = None


def endpoints(setup: dict) -> list[Endpoint]:
    return [
        Endpoint("home", "GET", "/", "page"),
        Endpoint("search", "GET", "/search?q=" + quote("开火锅店"), "page"),
        Endpoint("api tasks (officer)", "GET", "/api/v1/tasks", "read", "officer"),
        Endpoint("api plans (restaurant)", "POST", "/api/v1/plans", "read", "citizen",
                 {"bundle": "open-restaurant", "region": "421200", "answers": {"area_sqm": 450}}),
        Endpoint("api exchange query", "POST", "/api/v1/exchange/query", "write", "exchange",
                 setup["exchange_query"]),
        Endpoint("api cases (draft)", "POST", "/api/v1/cases", "write", "citizen",
                 {"region": "430100", "item": ITEM}),
        Endpoint("api licences verify", "POST", "/api/v1/licences/verify", "read", "",
                 {"document": setup["licence"]}),
        Endpoint("window console", "GET", "/console/window/", "page", "clerk"),
        Endpoint("officer task page", "GET", "/console/tasks/", "page", "officer"),
        Endpoint("supervisor board", "GET", "/console/board/", "page", "supervisor"),
    ]


SHORT = {"home": "home", "search": "search", "api tasks (officer)": "tasks", "api plans (restaurant)": "plans",
         "api exchange query": "exchange", "api cases (draft)": "cases", "api licences verify": "verify",
         "window console": "window", "officer task page": "taskpage", "supervisor board": "board"}


# --- the bare twin --------------------------------------------------------------------------------------

_TWIN_SETTINGS = """
import os
import dj_database_url
SECRET_KEY = "bare-twin-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bare"]
MIDDLEWARE = []
ROOT_URLCONF = "bare.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
DATABASES = {"default": dj_database_url.parse(os.environ["BARE_DATABASE_URL"], conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # as Tongban's settings do
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"}
"""

_TWIN_MODELS = """
from django.db import models


class Row(models.Model):
    name = models.CharField(max_length=64)
    value = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
"""

_TWIN_VIEWS = """
import random

from django.db import transaction
from django.http import HttpResponse, JsonResponse

from bare.models import Row


def hello(request):
    return HttpResponse("hello")


def insert(request):
    with transaction.atomic():
        a = Row.objects.create(name="a", value=1)
        b = Row.objects.create(name="b", value=2)
    return JsonResponse({"ids": [a.pk, b.pk]}, status=201)


def read(request):
    row = Row.objects.get(pk=random.randint(1, 100))
    return JsonResponse({"id": row.pk, "name": row.name, "value": row.value})
"""

_TWIN_URLS = """
from django.urls import path

from bare import views

urlpatterns = [path("hello", views.hello), path("insert", views.insert), path("read", views.read)]
"""


def write_twin(folder: Path) -> None:
    (folder / "bare").mkdir(parents=True)
    for name, text in {"__init__.py": "", "settings.py": _TWIN_SETTINGS, "models.py": _TWIN_MODELS,
                       "views.py": _TWIN_VIEWS, "urls.py": _TWIN_URLS,
                       "wsgi.py": "from django.core.wsgi import get_wsgi_application\n"
                                  "application = get_wsgi_application()\n"}.items():
        (folder / "bare" / name).write_text(textwrap.dedent(text).lstrip())


def twin_env(folder: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "DJANGO_"))}
    env.update(BARE_DATABASE_URL=url, DJANGO_SETTINGS_MODULE="bare.settings", PYTHONPATH=str(folder))
    env.pop("DATABASE_URL", None)
    return env


def prepare_twin(folder: Path, env: dict) -> None:
    python = str(BIN / "python")
    _run([python, "-m", "django", "migrate", "--run-syncdb", "--verbosity", "0"], env, cwd=folder)
    _run([python, "-m", "django", "shell", "-c",
          "from bare.models import Row; Row.objects.bulk_create([Row(name=f'r{i}', value=i) for i in range(100)])"],
         env, cwd=folder)


# --- Tongban --------------------------------------------------------------------------------------------

def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def tongban_envs(url: str, var: Path) -> tuple[dict, dict]:
    """(set-up env: development profile, for migrate and demo load; server env: production profile)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "DJANGO_"))}
    base.update(DATABASE_URL=url, TONGBAN_VAR_DIR=str(var), TONGBAN_MEDIA_ROOT=str(var / "media"),
                PYTHONUNBUFFERED="1", ALLOWED_HOSTS="127.0.0.1,localhost", SECRET_KEY=secrets.token_urlsafe(50))
    production = dict(base, TONGBAN_PROFILE="production", TONGBAN_DEMO="1", TONGBAN_OIDC_KEY=_pem())
    return base, production


_SESSIONS_SCRIPT = r"""
import json
from django.conf import settings
from django.test import Client
from django.middleware.csrf import _get_new_csrf_string
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from tongban.accounts.models import User
from tongban.exchange.models import Grant
from tongban.licences.models import Licence
from tongban.licences.selectors import licence_document

def session(username):
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    if user.kind == User.Kind.STAFF:
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench_http", defaults={"confirmed": True})
        s = client.session
        s[DEVICE_ID_SESSION_KEY] = device.persistent_id
        s.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value

out = {"csrf": _get_new_csrf_string(), "session_cookie": settings.SESSION_COOKIE_NAME,
       "csrf_cookie": settings.CSRF_COOKIE_NAME, "sessions": {}}
for who, username in {"citizen": "changsha-citizen", "officer": "changsha-civil", "clerk": "changsha-clerk",
                      "supervisor": "changsha-supervisor"}.items():
    out["sessions"][who] = session(username)
# An officer of a department holding a granted population grant queries one person (logged).
grant = None
officer = None
for g in Grant.objects.filter(status=Grant.Status.GRANTED, resource__code="population").order_by("pk"):
    officer = User.objects.filter(kind=User.Kind.STAFF, department_id=g.consumer_id, is_active=True).order_by("pk").first()
    if officer is not None:
        grant = g
        break
subject = User.objects.filter(kind=User.Kind.PERSON).exclude(id_number="").order_by("pk").first().id_number
out["sessions"]["exchange"] = session(officer.username)
out["exchange_user"] = officer.username
out["exchange_query"] = {"resource": "population", "subject": subject,
                         "fields": sorted(f.name for f in grant.fields.all())[:3],
                         "purpose": grant.purpose, "case_ref": "BENCH-HTTP-1"}
out["licence"] = licence_document(Licence.objects.order_by("pk").first())
print("BENCH_HTTP_SETUP " + json.dumps(out, ensure_ascii=False, default=str))
"""


def make_sessions(env: dict) -> dict:
    done = _run([str(BIN / "tongban"), "shell", "-c", _SESSIONS_SCRIPT], env)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH_HTTP_SETUP "))
    return json.loads(line.split(" ", 1)[1])


def _run(cmd: list[str], env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done


# --- requests -------------------------------------------------------------------------------------------

@dataclass
class Request:
    """One endpoint as the load generator sends it."""

    name: str
    base: str
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""


def tongban_request(ep: Endpoint, base: str, setup: dict) -> Request:
    port = base.rsplit(":", 1)[1]
    headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{port}"}
    cookies = [f"{setup['csrf_cookie']}={setup['csrf']}"]
    if ep.who:
        cookies.append(f"{setup['session_cookie']}={setup['sessions'][ep.who]}")
    headers["Cookie"] = "; ".join(cookies)
    body = b""
    if ep.method == "POST":
        body = json.dumps(ep.body, ensure_ascii=False).encode()
        headers.update({"Content-Type": "application/json", "X-CSRFToken": setup["csrf"],
                        "Origin": f"https://127.0.0.1:{port}"})
    return Request(ep.name, base, ep.method, ep.path, headers, body)


def twin_request(kind: str, base: str) -> Request:
    path = TWINS[kind]
    return Request(f"bare {path}", base, "POST" if kind == "write" else "GET", f"/{path}")


def check(req: Request) -> None:
    """One request first: it must answer 2xx (a redirect or an error would measure the wrong thing)."""
    answer = httpx.request(req.method, req.base + req.path, headers=req.headers, content=req.body or None,
                           timeout=60)
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"{req.name}: {req.method} {req.path} answered {answer.status_code}: {answer.text[:500]}")


@dataclass
class Sample:
    req_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # answers other than 2xx, and socket errors


# --- wrk ------------------------------------------------------------------------------------------------

def _lua_string(value: str) -> str:
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    eq = "=" * level
    return f"[{eq}[{value}]{eq}]"


def wrk_run(req: Request, seconds: float, threads: int, connections: int, folder: Path) -> Sample:
    script = folder / "wrk.lua"
    lines = [f"wrk.method = {_lua_string(req.method)}"]
    if req.body:
        lines.append(f"wrk.body = {_lua_string(req.body.decode())}")
    for key, value in req.headers.items():
        lines.append(f"wrk.headers[ {_lua_string(key)} ] = {_lua_string(value)}")  # `[[[` would be a call
    script.write_text("\n".join(lines) + "\n" + _WRK_STATUS)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "30s", "--latency", "-s", str(script), req.base + req.path]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or "BENCH_NOT2XX" not in done.stdout:
        raise RuntimeError(f"wrk failed on {req.name}: {(done.stdout + done.stderr)[-2000:]}")
    return parse_wrk(done.stdout)


# Counts the answers that are not 2xx (wrk itself only counts those outside 2xx and 3xx: a redirect to
# the login page would pass for a success).
_WRK_STATUS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not2xx = 0 end
function response(status, headers, body) if status < 200 or status > 299 then not2xx = not2xx + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("not2xx") end
  io.write(string.format("BENCH_NOT2XX %d\\n", n))
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> Sample:
    req_s = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"BENCH_NOT2XX (\d+)", out))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(n) for n in m.groups())
    return Sample(req_s, p50, p99, requests, errors)


# --- Python clients (when wrk is not installed) ---------------------------------------------------------

def _client(req: Request, deadline: float, queue) -> None:
    import http.client

    host, port = req.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    latencies, errors = [], 0
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
            answer = conn.getresponse()
            answer.read()
            if not 200 <= answer.status < 300:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            continue
        latencies.append(time.perf_counter() - start)
    conn.close()
    queue.put((latencies, errors))


def python_run(req: Request, seconds: float, processes: int) -> Sample:
    queue = multiprocessing.get_context("fork").Queue()
    deadline = time.monotonic() + seconds  # every client stops then: the window is `seconds` long
    procs = [multiprocessing.get_context("fork").Process(target=_client, args=(req, deadline, queue))
             for _ in range(processes)]
    results = []
    try:
        for p in procs:
            p.start()
        results = [queue.get(timeout=seconds + 60) for _ in procs]
    finally:  # on Ctrl-C or a timeout too: no client outlives the run
        for p in procs:
            p.join(timeout=10 if len(results) == len(procs) else 0)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
    latencies = sorted(x for lat, _ in results for x in lat)
    if not latencies:
        return Sample(0.0, 0.0, 0.0, 0, sum(e for _, e in results))
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e3  # noqa: E731
    return Sample(len(latencies) / seconds, pick(0.5), pick(0.99), len(latencies), sum(e for _, e in results))


# --- the run --------------------------------------------------------------------------------------------

class Cleanup:
    """Everything to undo, in reverse order, once: servers, databases, the temp dir (also on SIGTERM)."""

    def __init__(self):
        self.actions: list = []

    def add(self, fn) -> None:
        self.actions.append(fn)

    def run(self) -> None:
        while self.actions:
            fn = self.actions.pop()
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - keep cleaning up; say what failed
                print(f"bench_http: clean-up step failed: {exc!r}", file=sys.stderr)


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_http", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3, help="seconds per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (or Python client processes)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--only", default="", help="comma-separated endpoint short names: " + ",".join(SHORT.values()))
    parser.add_argument("--python-clients", action="store_true", help="use the Python clients even if wrk is there")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(sys.argv[2:] if argv is None and sys.argv[0].endswith("__main__.py") else argv)
    use_wrk = shutil.which("wrk") is not None and not args.python_clients
    logging.getLogger("httpx").setLevel(logging.WARNING)  # stdout is the table or the JSON

    previous = signal.signal(signal.SIGTERM, _sigterm)
    cleanup = Cleanup()
    try:
        result = _bench(args, use_wrk, cleanup)
    finally:
        cleanup.run()
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result)


def _bench(args, use_wrk: bool, cleanup: Cleanup) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench_http_"))
    cleanup.add(lambda: shutil.rmtree(folder, ignore_errors=True))
    var = folder / "var"
    var.mkdir()
    base = os.environ.get("DATABASE_URL", "") if args.db == "postgres" else "sqlite"
    if args.db == "postgres" and not base.startswith("postgres"):
        base = DEFAULT_POSTGRES
    url, drop = database_url(f"tongban_hbench_{os.getpid()}", base=base, sqlite_dir=folder)
    cleanup.add(drop)
    twin_url = url if args.db == "postgres" else database_url("bare_twin", base="sqlite", sqlite_dir=folder)[0]

    setup_env, production_env = tongban_envs(url, var)
    _run([str(BIN / "tongban"), "migrate", "--no-input"], setup_env)
    _run([str(BIN / "tongban"), "demo", "load"], setup_env)
    _run([str(BIN / "tongban"), "collectstatic", "--no-input"], production_env)
    setup = make_sessions(production_env)

    write_twin(folder / "twin")
    benv = twin_env(folder / "twin", twin_url)
    prepare_twin(folder / "twin", benv)

    tongban = Server(production_env, args.workers, log_dir=folder, name="tongban")
    cleanup.add(tongban.stop)
    twin = Server(benv, args.workers, app="bare.wsgi", cwd=folder / "twin", health="/hello", log_dir=folder,
                  name="twin")
    cleanup.add(twin.stop)

    wanted = {s for s in args.only.split(",") if s}
    unknown = wanted - set(SHORT.values())
    if unknown:
        raise SystemExit(f"unknown endpoint(s) {sorted(unknown)}; known: {', '.join(SHORT.values())}")
    eps = [e for e in endpoints(setup) if not wanted or SHORT[e.name] in wanted]
    kinds = sorted({e.kind for e in eps})
    twins = {k: twin_request(k, twin.url) for k in kinds}
    reqs = {e.name: tongban_request(e, tongban.url, setup) for e in eps}
    for req in [*twins.values(), *reqs.values()]:
        check(req)

    def drive(req: Request) -> Sample:
        if use_wrk:
            return wrk_run(req, args.seconds, args.threads, args.connections, folder)
        return python_run(req, args.seconds, args.threads)

    rounds: list[dict[str, Sample]] = []
    started = time.monotonic()
    for _ in range(args.rounds):
        got = {f"twin:{k}": drive(r) for k, r in twins.items()}
        got.update({name: drive(r) for name, r in reqs.items()})
        rounds.append(got)
    elapsed = time.monotonic() - started

    def med(values):
        return round(statistics.median(values), 2)

    rows = []
    for kind, req in twins.items():
        samples = [r[f"twin:{kind}"] for r in rounds]
        rows.append({"endpoint": req.name, "method": req.method, "path": req.path, "twin": True,
                     "req_s": med([s.req_s for s in samples]), "p50_ms": med([s.p50_ms for s in samples]),
                     "p99_ms": med([s.p99_ms for s in samples]), "errors": sum(s.errors for s in samples),
                     "baseline": None, "ratio": None})
    for ep in eps:
        samples = [r[ep.name] for r in rounds]
        twin_samples = [r[f"twin:{ep.kind}"] for r in rounds]
        ratios = [s.req_s / t.req_s if t.req_s else 0.0 for s, t in zip(samples, twin_samples, strict=True)]
        rows.append({"endpoint": ep.name, "method": ep.method, "path": ep.path, "twin": False,
                     "req_s": med([s.req_s for s in samples]), "p50_ms": med([s.p50_ms for s in samples]),
                     "p99_ms": med([s.p99_ms for s in samples]), "errors": sum(s.errors for s in samples),
                     "baseline": twins[ep.kind].name, "baseline_req_s": med([t.req_s for t in twin_samples]),
                     "ratio": round(statistics.median(ratios), 3), "round_ratios": [round(x, 3) for x in ratios]})
    return {"database": args.db, "workers": args.workers, "rounds": args.rounds, "seconds": args.seconds,
            "load_generator": (f"wrk -t{args.threads} -c{args.connections}" if use_wrk
                               else f"{args.threads} Python client processes"),
            "load_average": [round(x, 2) for x in os.getloadavg()], "measured_s": round(elapsed, 1),
            "endpoints": rows}


def print_table(result: dict) -> None:
    print(f"\n## HTTP side by side ({result['database']}, {result['workers']} gunicorn workers each, "
          f"{result['load_generator']}, {result['rounds']} rounds x {result['seconds']:g} s, "
          f"load average {' '.join(str(x) for x in result['load_average'])})")
    print(f"{'endpoint':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  {'baseline':<12} {'ratio':>6}")
    for r in result["endpoints"]:
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "-"
        print(f"{r['endpoint']:<26} {r['req_s']:>9,.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}  "
              f"{r['baseline'] or '-':<12} {ratio:>6}")
    print("ratio: median over rounds of (endpoint req/s / its bare twin's req/s in the same round)")


if __name__ == "__main__":
    main()
