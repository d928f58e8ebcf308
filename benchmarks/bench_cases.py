"""Case handling (办件): intake and approval throughput, and the lists with 100,000 cases.

    .venv/bin/python -m benchmarks bench_cases                       # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_bench .venv/bin/python -m benchmarks bench_cases
    BENCH_CASES_QUICK=1 .venv/bin/python -m benchmarks bench_cases   # CI smoke: 5,000 cases, few runs

Its own throw-away database (benchmarks.harness.benchmark_database) with the demo loaded
(tongban.core.demo.load()). Results: docs/cases-benchmarks.md.

1. Throughput, in-process, through tongban.cases.services with the demo staff:
   - intake to acceptance: start_case (open-restaurant, {"area_sqm": 800}, 长沙's demo boss for its
     enterprise) + fill the form + attach every required file + submit + accept by the clerk; each
     timing is one whole case;
   - one approval step: services.act(approve) on an active sub-case by its department's officer (the
     sub-case and officer are fetched outside the timing); reported for all steps, routine steps
     (受理/审查) and decision steps (决定, which also performs the automatic 制证 step: the licence is
     signed and issued);
   - baseline: a bare INSERT + UPDATE of one SubCase row in a transaction (the cheapest state change).
   Query counts come from separate, untimed runs under CaptureQueriesContext.
2. Lists with BENCH_CASES_N (default 100,000) cases bulk-inserted by benchmarks.case_data (not through
   the services; see there), page size 50:
   - selectors.cases_for for an applicant with many cases, a window clerk, a supervisor (region-wide)
     and an officer: first page, and the page reached after following next_cursor DEPTH times;
   - selectors.officer_queue for 长沙's market-regulation officer: first and deep page;
   - baselines on the same visible set: OFFSET pagination (qs[offset:offset + 50]) at the same depth,
     and COUNT(*) of the visible set;
   - EXPLAIN (QUERY PLAN on SQLite, ANALYZE on PostgreSQL) of the officer queue and the deep list pages,
     with a check that the officer queue uses the subcase_queue index.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from datetime import date

from benchmarks.harness import Result, benchmark_database, measure, report

QUICK = os.environ.get("BENCH_CASES_QUICK", "") not in ("", "0") or "--quick" in sys.argv
N_CASES = int(os.environ.get("BENCH_CASES_N", "5000" if QUICK else "100000"))
INTAKE_RUNS = int(os.environ.get("BENCH_CASES_INTAKE_RUNS", "5" if QUICK else "40"))
APPROVAL_RUNS = int(os.environ.get("BENCH_CASES_APPROVAL_RUNS", "30" if QUICK else "240"))
DEPTH = int(os.environ.get("BENCH_CASES_DEPTH", "20" if QUICK else "200"))
PAGE_RUNS = 10 if QUICK else 40
ACCEPT_ON = date(2026, 9, 28)
LIMIT = 50


def _result(name: str, samples: list[float]) -> Result:
    """A harness Result from raw samples (same median and p95 rule as harness.measure)."""
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return Result(name, len(samples), statistics.median(samples), p95)


class QueryCounter:
    """Count the queries of a block (CaptureQueriesContext, with the log emptied first: the log keeps
    only the last 9,000 queries, after which its length stops growing and the count would read 0)."""

    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        connection.queries_log.clear()
        self._ctx = CaptureQueriesContext(connection)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        return False

    def __len__(self) -> int:
        return len(self._ctx)

    @property
    def captured(self):
        return self._ctx.captured_queries


# --- 1. throughput ---------------------------------------------------------------------------------------


def _intake(phases: dict[str, list[float]] | None = None):
    from tongban.cases import services, simulation

    boss, enterprise = simulation.demo_applicant("changsha")
    marks = [time.perf_counter()]
    case = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc, on=ACCEPT_ON)
    marks.append(time.perf_counter())
    case = simulation.fill_form(case, boss)
    marks.append(time.perf_counter())
    simulation.hand_in_materials(case, boss)
    marks.append(time.perf_counter())
    services.submit_case(case=case, actor=boss, on=ACCEPT_ON)
    marks.append(time.perf_counter())
    services.accept_case(case=case, actor=simulation.clerk_for(case), on=ACCEPT_ON)
    marks.append(time.perf_counter())
    if phases is not None:
        for name, start, end in zip(PHASES, marks, marks[1:], strict=False):
            phases.setdefault(name, []).append(end - start)
    return case


PHASES = ("start_case", "fill form", "attach files", "submit", "accept (clerk)")


def _intake_query_counts() -> dict[str, int]:
    """Queries per phase of one intake (an untimed run)."""
    from tongban.cases import services, simulation

    boss, enterprise = simulation.demo_applicant("changsha")
    counts = {}
    with QueryCounter() as q:
        case = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                                   answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc, on=ACCEPT_ON)
    counts["start_case"] = len(q)
    with QueryCounter() as q:
        case = simulation.fill_form(case, boss)
    counts["fill form"] = len(q)
    with QueryCounter() as q:
        simulation.hand_in_materials(case, boss)
    counts["attach files"] = len(q)
    with QueryCounter() as q:
        services.submit_case(case=case, actor=boss, on=ACCEPT_ON)
    counts["submit"] = len(q)
    clerk = simulation.clerk_for(case)
    with QueryCounter() as q:
        services.accept_case(case=case, actor=clerk, on=ACCEPT_ON)
    counts["accept (clerk)"] = len(q)
    counts["files"] = case.materials.filter(files__isnull=False).distinct().count()
    return counts


def _next_active():
    from tongban.cases.models import SubCase

    return (SubCase.objects.filter(status=SubCase.Status.ACTIVE, hold="")
            .select_related("workflow", "department", "case").order_by("id").first())


def _approvals(runs: int, *, count_queries: bool = False) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Approve the oldest active sub-case `runs` times; samples split by routine/decision steps."""
    from tongban.cases import services, simulation

    officers: dict[int, object] = {}
    times: dict[str, list[float]] = {"routine": [], "decision": []}
    queries: dict[str, list[int]] = {"routine": [], "decision": []}
    for _ in range(runs):
        sub = _next_active()
        if sub is None:
            _intake()
            sub = _next_active()
        officer = officers.get(sub.department_id) or officers.setdefault(sub.department_id, simulation.officer_for(sub))
        kind = "decision" if sub.workflow.step(sub.step).get("decision") else "routine"
        decision = simulation.sample_decision(sub)  # the simulated officer's input at the decision step
        if count_queries:
            with QueryCounter() as q:
                services.act(subcase=sub, actor=officer, action="approve", step=sub.step, on=ACCEPT_ON,
                             decision=decision)
            queries[kind].append(len(q))
        else:
            start = time.perf_counter()
            services.act(subcase=sub, actor=officer, action="approve", step=sub.step, on=ACCEPT_ON,
                         decision=decision)
            times[kind].append(time.perf_counter() - start)
    return times, queries


def _bare_write():
    """INSERT one SubCase row (a copy of a real one under a new key) and UPDATE its status, one transaction."""
    from django.db import transaction

    from tongban.cases.models import SubCase

    template = SubCase.objects.order_by("id").first()
    counter = [0]
    fields = {f.attname: getattr(template, f.attname) for f in SubCase._meta.concrete_fields if f.attname != "id"}

    def write():
        counter[0] += 1
        with transaction.atomic():
            row = SubCase.objects.create(**{**fields, "key": f"bench-{counter[0]}"})
            SubCase.objects.filter(pk=row.pk).update(status=SubCase.Status.ACTIVE, revision=1)

    return write


def throughput(vendor: str) -> None:
    from tongban.workdays import calendar

    calendar.clear_cache()
    phases: dict[str, list[float]] = {}
    # Warm up (first plans, caches, imports), then time whole cases one by one.
    for _ in range(2):
        _intake()
    samples = []
    for _ in range(INTAKE_RUNS):
        start = time.perf_counter()
        _intake(phases)
        samples.append(time.perf_counter() - start)
    bare = measure("bare INSERT+UPDATE of a SubCase, one txn", _bare_write(), runs=300, warmup=20)
    intake = _result("intake to acceptance (one case, 5 services)", samples)
    approval_times, _ = _approvals(APPROVAL_RUNS)
    everything = approval_times["routine"] + approval_times["decision"]
    rows = [bare, intake,
            _result("approval step, any (services.act approve)", everything),
            _result("approval step, routine (受理/审查)", approval_times["routine"]),
            _result("approval step, decision (决定 + auto 制证)", approval_times["decision"])]
    report(f"case throughput, in-process ({vendor}; 'per s' = 1 / median)", rows,
           baseline="bare INSERT+UPDATE of a SubCase, one txn")
    report(f"intake phases ({vendor}; medians over {INTAKE_RUNS} cases)",
           [_result(name, phases[name]) for name in PHASES], baseline="start_case")

    counts = _intake_query_counts()
    _, approval_queries = _approvals(30, count_queries=True)
    total = sum(counts[p] for p in PHASES)
    print(f"\n## queries ({vendor})")
    print(f"intake to acceptance: {total} queries "
          f"({', '.join(f'{p} {counts[p]}' for p in PHASES)}; {counts['files']} files attached)")
    for kind in ("routine", "decision"):
        values = approval_queries[kind]
        if values:
            print(f"approval step, {kind}: median {statistics.median(values):.0f} queries "
                  f"(min {min(values)}, max {max(values)}, {len(values)} steps)")
    print("bare INSERT+UPDATE: 2 queries (+ savepoint-free BEGIN/COMMIT)")


# --- 2. lists with many cases ----------------------------------------------------------------------------


def _walk(fetch, depth: int) -> tuple[list[float], str | None, int]:
    """Follow next_cursor up to `depth` times; returns the per-page timings, the cursor that fetches the
    last page reached (None for the first page) and the number of pages walked."""
    timings, cursor = [], None
    for pages in range(1, depth + 2):
        start = time.perf_counter()
        page = fetch(cursor)
        timings.append(time.perf_counter() - start)
        if pages == depth + 1 or page.next_cursor is None:
            return timings, cursor, pages
        cursor = page.next_cursor
    raise AssertionError("unreachable")


def _explain(sql: str, params) -> str:
    from django.db import connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(" " * (2 * _depth(rows, r)) + str(r[-1]) for r in rows)


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def _main_query(fn) -> tuple[str, tuple]:
    """The SQL and parameters of the page query `fn` runs (the last query it sends)."""
    from django.db import connection

    captured: list[tuple[str, tuple]] = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return captured[-1]


def _pages(title: str, fetch, qs, vendor: str) -> tuple[list[tuple[str, str, tuple]], tuple, tuple]:
    """Measure one list: keyset first and deep page, the walk, OFFSET at the same depth and COUNT(*).
    Returns the EXPLAIN candidates and the (sql, params) of the first and the deep keyset page."""
    walk, deep_cursor, pages = _walk(fetch, DEPTH)
    offset = (pages - 1) * LIMIT
    total = qs.count()

    def offset_page():
        return list(qs[offset:offset + LIMIT])

    rows = [
        measure("keyset first page", lambda: fetch(None), runs=PAGE_RUNS, warmup=3),
        measure(f"keyset page {pages} (cursor)", lambda: fetch(deep_cursor), runs=PAGE_RUNS, warmup=3),
        _result(f"keyset walk, pages 1..{pages} (each page)", walk),
        measure(f"OFFSET {offset:,} LIMIT {LIMIT} (same page)", offset_page, runs=PAGE_RUNS, warmup=3),
        measure(f"COUNT(*) of the visible set ({total:,})", qs.count, runs=PAGE_RUNS, warmup=3),
    ]
    report(f"{title}: {total:,} visible ({vendor}, limit {LIMIT})", rows, baseline="keyset first page")
    first, deep = _main_query(lambda: fetch(None)), _main_query(lambda: fetch(deep_cursor))
    second_cursor = fetch(None).next_cursor
    explains = [(f"{title}, keyset page {pages}", *deep), (f"{title}, OFFSET {offset:,}", *_main_query(offset_page))]
    if second_cursor:
        explains.insert(0, (f"{title}, keyset page 2", *_main_query(lambda: fetch(second_cursor))))
    return explains, first, deep


def listing(vendor: str) -> None:
    from benchmarks import case_data
    from tongban.accounts.models import User
    from tongban.cases import selectors
    from tongban.cases.models import Case, SubCase
    from tongban.core.access import visible

    print(f"\n## generating {N_CASES:,} cases in bulk (benchmarks.case_data, not through the services; {vendor}) ...")
    made = case_data.generate(N_CASES)
    print(f"generated {made['cases']:,} cases and {made['subcases']:,} sub-cases in {made['seconds']:.1f} s "
          f"(ANALYZE {made['analyze_seconds']:.1f} s); database now holds {Case.objects.count():,} cases, "
          f"{SubCase.objects.count():,} sub-cases")

    explains: list[tuple[str, str, tuple]] = []
    officer = User.objects.get(username="changsha-market")
    queue_qs = (SubCase.objects.filter(department_id=officer.department_id, status=SubCase.Status.ACTIVE)
                .select_related("case", "item_version", "assignee").order_by("promised_due", "id"))
    more, queue_first, queue_deep = _pages(
        "officer_queue, changsha-market", lambda c: selectors.officer_queue(officer, cursor=c, limit=LIMIT),
        queue_qs, vendor)
    explains += [("officer_queue, first page", *queue_first), *more]

    people = {"applicant changsha-boss": "changsha-boss", "window clerk changsha-clerk": "changsha-clerk",
              "supervisor changsha-supervisor": "changsha-supervisor", "officer changsha-market": "changsha-market"}
    for label, username in people.items():
        user = User.objects.get(username=username)
        qs = visible(user, "case").select_related("region", "intake_region").order_by("-id")
        more, _, _ = _pages(f"cases_for, {label}",
                            lambda c, user=user: selectors.cases_for(user, cursor=c, limit=LIMIT), qs, vendor)
        explains += more

    print(f"\n## EXPLAIN ({vendor})")
    for title, sql, params in explains:
        print(f"\n### {title}\n{_explain(sql, params)}")
    print()
    for title, (sql, params) in (("first", queue_first), ("deep", queue_deep)):
        used = "subcase_queue" in _explain(sql, params)
        print(f"officer_queue {title} page uses index subcase_queue: {'yes' if used else 'NO'}")


def main() -> None:
    with benchmark_database() as db:
        logging.getLogger("tongban").setLevel(logging.WARNING)  # one INFO line per licence issued otherwise
        from tongban.core import demo

        started = time.perf_counter()
        demo.load()
        print(f"\n# bench_cases on {db.vendor} (demo loaded in {time.perf_counter() - started:.1f} s; "
              f"quick={QUICK}, N={N_CASES:,}, intake runs {INTAKE_RUNS}, approval runs {APPROVAL_RUNS}, "
              f"depth {DEPTH})")
        started = time.perf_counter()
        throughput(db.vendor)
        print(f"\n(throughput part took {time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        listing(db.vendor)
        print(f"\n(listing part took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
