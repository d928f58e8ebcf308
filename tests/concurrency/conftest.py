"""The PostgreSQL concurrency suite: services raced on real threads, each with its own connection, with
real commits. SQLite serialises every write transaction with one database lock, so races there prove
nothing about row locks: the suite is skipped there and runs in CI's PostgreSQL pass.

Cases are made once through the services (an accepted restaurant case, a single-item case driven to its
decision step) and then copied in bulk (`clone_cases`: the case, its sub-cases and its checklist rows,
under fresh numbers), so each round races on fresh rows without paying for intake 800 times.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from tests.demo_fixtures import committed_demo_data

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
SKIP_REASON = ("row-lock races need PostgreSQL: SQLite serialises every write transaction with one database "
               "lock (run with DATABASE_URL=postgres://...; CI's PostgreSQL pass does)")
ROUNDS = int(os.environ.get("TONGBAN_RACE_ROUNDS", "200"))  # the issue asks for 200; fewer only while developing
LOCK_TIMEOUT = "10s"  # a round that waits this long is counted as a lock timeout, not left hanging
ACCEPT_ON = date(2026, 9, 28)

postgres_only = pytest.mark.skipif(not ON_POSTGRESQL, reason=SKIP_REASON)


@pytest.fixture(scope="package")
def committed_demo(django_db_setup, django_db_blocker):
    """The demo, committed and flushed afterwards (tests.demo_fixtures.committed_demo_data)."""
    if not ON_POSTGRESQL:
        pytest.skip(SKIP_REASON)
    with committed_demo_data(django_db_blocker):
        yield


@pytest.fixture
def unblocked(committed_demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


# --- making cases ---------------------------------------------------------------------------------


def accepted_restaurant():
    """An accepted 开餐馆 case of 长沙 (company registration and environmental filing active)."""
    from tongban.cases import services, simulation

    boss, enterprise = simulation.demo_applicant("changsha")
    case = services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                               answers={"area_sqm": 800}, enterprise_uscc=enterprise.uscc, on=ACCEPT_ON,
                               prefill=False)
    case = simulation.fill_form(case, boss)
    simulation.hand_in_materials(case, boss)
    services.submit_case(case=case, actor=boss, on=ACCEPT_ON)
    services.accept_case(case=case, actor=simulation.clerk_for(case), on=ACCEPT_ON)
    case.refresh_from_db()
    return case


def company_at_decision():
    """A single-item company registration, accepted, results to be picked up at the window, and
    approved up to its decision step (决定)."""
    from tongban.cases import services, simulation
    from tongban.cases.models import SubCase

    restaurant_plan = accepted_restaurant().plan
    basic_code = next(i["basic_code"] for i in restaurant_plan["items"] if i["code"] == "company-registration")
    boss, enterprise = simulation.demo_applicant("changsha")
    case = services.start_case(actor=boss, region_code="430100", item_code=basic_code,
                               enterprise_uscc=enterprise.uscc, on=ACCEPT_ON, prefill=False)
    case = simulation.fill_form(case, boss)
    simulation.hand_in_materials(case, boss)
    services.submit_case(case=case, actor=boss, on=ACCEPT_ON)
    services.accept_case(case=case, actor=simulation.clerk_for(case), on=ACCEPT_ON)
    services.choose_delivery(case=case, actor=boss, method="window")  # the race switches it to electronic
    (sub,) = SubCase.objects.filter(case=case)
    officer = simulation.officer_for(sub)
    for step in ("accept", "review"):
        sub = services.act(subcase=sub, actor=officer, action="approve", step=step, on=ACCEPT_ON)
    assert sub.step == "decide", sub.step
    case.refresh_from_db()
    return case


_clone_serial = iter(range(10000, 99999))


def clone_cases(template, count: int) -> list:
    """`count` copies of `template` (case row, sub-cases, checklist rows) under fresh case numbers."""
    from tongban.cases.models import Case, CaseMaterial, SubCase

    region, day = template.number.split("-")[:2]
    copies = []
    for _ in range(count):
        copy = Case.objects.get(pk=template.pk)
        copy.pk = None
        copy.number = f"{region}-{day}-{next(_clone_serial)}"
        copies.append(copy)
    copies = Case.objects.bulk_create(copies)
    subs, rows = [], []
    template_subs = list(SubCase.objects.filter(case=template))
    template_rows = list(CaseMaterial.objects.filter(case=template))
    for copy in copies:
        for sub in template_subs:
            sub.pk, sub.case_id = None, copy.pk
            subs.append(SubCase(**{f.attname: getattr(sub, f.attname) for f in SubCase._meta.concrete_fields}))
        for row in template_rows:
            row.pk, row.case_id = None, copy.pk
            rows.append(CaseMaterial(**{f.attname: getattr(row, f.attname) for f in CaseMaterial._meta.concrete_fields}))
    SubCase.objects.bulk_create(subs)
    CaseMaterial.objects.bulk_create(rows)
    return copies


# --- racing ----------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the rounds ended with, by kind; `retries` counts the service boundary's second runs."""

    rounds: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)
    retries: int = 0
    busy: int = 0
    seconds: float = 0.0

    @property
    def deadlocks(self) -> int:
        return sum(1 for e in self.errors if "40P01" in e or "deadlock" in e.lower())

    @property
    def lock_timeouts(self) -> int:
        return sum(1 for e in self.errors if "55P03" in e or "lock timeout" in e.lower())

    def line(self, name: str) -> str:
        return (f"{name}: {self.rounds} rounds in {self.seconds:.1f} s; outcomes {dict(self.outcomes)}; "
                f"retries {self.retries}, busy {self.busy}, deadlocks {self.deadlocks}, "
                f"lock timeouts {self.lock_timeouts}, other errors {len(self.errors)}")


class _RetryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1


def _sqlstate(exc: BaseException) -> str:
    while exc is not None:
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        exc = exc.__cause__
    return ""


class Racer:
    """Runs the calls of a round at the same moment on `width` long-lived threads, each with its own
    database connection (closed when the racer exits)."""

    def __init__(self, width: int):
        self.width = width
        self.barrier = threading.Barrier(width)
        self.pool = ThreadPoolExecutor(max_workers=width)
        self.tally = Tally()
        self.handler = _RetryCounter()

    def __enter__(self):
        logging.getLogger("tongban.core.transactions").addHandler(self.handler)
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.tally.seconds = time.perf_counter() - self.started
        logging.getLogger("tongban.core.transactions").removeHandler(self.handler)
        self.tally.retries = self.handler.count

        def close():
            self.barrier.wait(30)  # one close per thread
            connection.close()

        for future in [self.pool.submit(close) for _ in range(self.width)]:
            future.result(60)
        self.pool.shutdown()
        return False

    def race(self, *calls) -> list[tuple[str, object]]:
        """("ok", value) | ("conflict", rule) | ("busy", rule) | ("error", description) per call."""
        from tongban.core.errors import Busy, Conflict

        assert len(calls) == self.width

        def worker(call):
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
                self.barrier.wait(30)
                return ("ok", call())
            except Busy as exc:
                return ("busy", exc.problem.rule)
            except Conflict as exc:
                return ("conflict", exc.problem.rule)
            except DatabaseError as exc:
                return ("error", f"{_sqlstate(exc)} {type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - counted and reported by the assertion
                return ("error", f"{type(exc).__name__}: {exc}")

        results = [future.result(90) for future in [self.pool.submit(worker, call) for call in calls]]
        self.tally.rounds += 1
        for kind, value in results:
            self.tally.outcomes[kind if kind != "conflict" else f"conflict:{value}"] += 1
            if kind == "error":
                self.tally.errors.append(str(value))
            if kind == "busy":
                self.tally.busy += 1
        return results


# --- the state a round leaves ----------------------------------------------------------------------


def case_state(case) -> tuple:
    """What a round may change, comparable between a raced and a serial run (no ids, numbers or times)."""
    from tongban.audit.models import AuditEntry
    from tongban.cases.models import Action, Case, Message, Notice, SubCase

    case = Case.objects.get(pk=case.pk)
    subs = tuple(SubCase.objects.filter(case=case).order_by("position").values_list(
        "key", "status", "step", "hold", "revision", "result_licence__licence_type__code"))
    notices = tuple(sorted(Notice.objects.filter(case=case).values_list("kind", "subcase__key")))
    actions = tuple(sorted(Action.objects.filter(case=case).values_list("subcase__key", "action", "step_from",
                                                                         "step_to")))
    messages = tuple(sorted(Message.objects.filter(case=case).values_list("kind", flat=True)))
    trail = tuple(sorted(AuditEntry.objects.filter(case_ref=case.number).values_list("action", flat=True)))
    return (case.status, case.delivery_method, subs, notices, actions, messages, trail)
