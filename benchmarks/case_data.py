"""Bulk case data for the listing benchmarks (benchmarks/bench_cases.py).

`generate(n)` writes `n` Case rows with about 3 SubCases each straight into the database in batches
of 2,000 cases, one transaction per batch, NOT through tongban.cases.services: the services take
~0.1-1 s per case (plans, checklists, files, notices, audit chain), so 100,000 cases through them would
take hours. The rows are INSERTed as precomputed values (cursor.executemany on SQLite, multi-row VALUES
on PostgreSQL): Django's bulk_create was tried first and spent most of its time building SQL value by
value (~570 cases with their sub-cases per second on SQLite here; this path is ~2.7x faster there).
The rows are shaped like real ones for what the lists read and filter on (applicant, filer, intake
region and hall, handling region, status; per sub-case department, status and due dates), but they
carry no materials, notices, ledger, actions or audit entries, and their `plan` JSON is a small
stand-in (one key per item) rather than the full merged plan: the lists never read it, but the row
width still counts for the OFFSET baseline, so keep that in mind when comparing with a production
database.

Distribution (deterministic, seeded):
- region: 长沙 (430100) 40 %, each of the 6 other demo regions 10 %;
- channel: 30 % at the region's hall window (filed by its clerk, intake_hall set), 70 % online;
- applicant: one of the region's demo people (citizen, boss with the demo enterprise, agent), evenly,
  so `changsha-boss` owns ~13 % of all cases (an applicant with many cases);
- case status: delivered 35 %, accepted 40 %, submitted 8 %, draft 7 %, ready 5 %, refused 3 %,
  withdrawn 2 %; sub-case statuses follow the case (an accepted case has active, waiting and
  approved items; a delivered one only approved items; a draft or submitted one pending items);
- sub-cases per case: 1-5, mean 3; department among the region's 15 demo departments, market
  regulation 30 %, the rest evenly; `promised_due` spread over a year (2026-01-01 + 0..364 days),
  `statutory_due` 10 days later, `started_on` 20 days earlier.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from django.utils import timezone

STATUS_WEIGHTS = [("delivered", 35), ("accepted", 40), ("submitted", 8), ("draft", 7), ("ready", 5),
                  ("refused", 3), ("withdrawn", 2)]
REGION_WEIGHTS = {"430100": 4}  # the others weigh 1
MARKET_SHARE = 0.30
YEAR_START = date(2026, 1, 1)
BATCH = 2000


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _regions():
    """Per demo region: its departments (market regulation first), hall, clerk and applicants."""
    from tongban.accounts.models import Enterprise, User
    from tongban.core.demo import demo_accounts
    from tongban.regions.models import Department, ServiceHall

    out = []
    for row in demo_accounts():
        clerk = User.objects.get(username=row["clerk"])
        code = clerk.region_id
        departments = list(Department.objects.filter(region_id=code).order_by("uscc"))
        market = User.objects.get(username=row["market"]).department_id
        departments.sort(key=lambda d: d.pk != market)
        people = []
        for kind in ("citizen", "boss", "agent"):
            user = User.objects.get(username=row.get(kind, f"{row['citizen'].rsplit('-', 1)[0]}-{kind}"))
            enterprise = Enterprise.objects.filter(legal_representative=user).first() if kind == "boss" else None
            people.append((user, enterprise))
        out.append({"code": code, "clerk": clerk, "hall": ServiceHall.objects.get(region_id=code),
                    "departments": [d.pk for d in departments], "people": people,
                    "weight": REGION_WEIGHTS.get(code, 1)})
    return out


def _subcase_statuses(rng: random.Random, case_status: str, n: int) -> list[str]:
    if case_status in ("draft", "submitted"):
        return ["pending"] * n
    if case_status in ("delivered", "ready"):
        return ["approved"] * n
    if case_status == "refused":
        return ["cancelled"] * n
    if case_status == "withdrawn":
        return ["withdrawn"] * n
    # accepted: a mix, at least one open item
    statuses = [rng.choices(["active", "waiting", "approved", "denied"], weights=[60, 20, 17, 3])[0] for _ in range(n)]
    if not any(s in ("active", "waiting") for s in statuses):
        statuses[0] = "active"
    return statuses


class _Inserter:
    """Multi-row INSERTs of precomputed rows (cursor.executemany), per table, with every NOT NULL column
    filled from the model's defaults unless given. Values go through the field's get_db_prep_save only
    for dates, datetimes and JSON (the others are passed as they are)."""

    def __init__(self, model, *, with_id: bool):
        from django.db import connection, models

        self.connection = connection
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.columns = [f.attname for f in fields]
        self.template = {}
        self.prep = {}
        for f in fields:
            default = f.get_default()  # "" for NOT NULL text columns, None where the caller must give a value
            self.template[f.attname] = f.get_db_prep_save(default, connection) if default is not None else None
            if isinstance(f, models.DateField | models.JSONField):  # DateTimeField is a DateField
                self.prep[f.attname] = f
        quote = connection.ops.quote_name
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in (f.column for f in fields))})"
                    f" VALUES ({', '.join(['%s'] * len(fields))})")
        self.rows: list[tuple] = []

    def add(self, **values) -> None:
        row = dict(self.template)
        for name, value in values.items():
            field = self.prep.get(name)
            row[name] = field.get_db_prep_save(value, self.connection) if field is not None and value is not None \
                else value
        self.rows.append(tuple(row[c] for c in self.columns))

    def flush(self) -> int:
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                # One statement per chunk of rows (executemany sends one round trip per row here).
                per = max(1, 60000 // len(self.columns))
                head, values = self.sql.split(" VALUES ")
                for start in range(0, len(self.rows), per):
                    chunk = self.rows[start:start + per]
                    cursor.execute(f"{head} VALUES {', '.join([values] * len(chunk))}",
                                   [v for row in chunk for v in row])
            else:
                cursor.executemany(self.sql, self.rows)
        n, self.rows = len(self.rows), []
        return n


def generate(n: int, *, seed: int = 4, log=print) -> dict:
    """Insert `n` cases (and ~3n sub-cases) in batches; returns counts and timings."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from tongban.cases import workflows
    from tongban.cases.models import Case, SubCase
    from tongban.catalog.models import ItemVersion

    rng = random.Random(seed)
    regions = _regions()
    region_weights = [r["weight"] for r in regions]
    workflow = workflows.ensure_default()
    item_versions = list(ItemVersion.objects.order_by("pk").values_list("pk", "name")[:40])
    now = timezone.now()
    cases, subcases = _Inserter(Case, with_id=True), _Inserter(SubCase, with_id=False)
    next_id = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    started = time.perf_counter()
    made_cases = made_subs = 0
    while made_cases < n:
        size = min(BATCH, n - made_cases)
        for _ in range(size):
            case_id, next_id = next_id, next_id + 1
            region = rng.choices(regions, weights=region_weights)[0]
            status = _weighted(rng, STATUS_WEIGHTS)
            window = rng.random() < 0.30
            user, enterprise = rng.choice(region["people"])
            day = YEAR_START + timedelta(days=rng.randrange(365))
            n_items = rng.choices([1, 2, 3, 4, 5], weights=[15, 20, 30, 20, 15])[0]
            items = [(rng.choice(item_versions), region["departments"][0] if rng.random() < MARKET_SHARE
                      else rng.choice(region["departments"][1:])) for _ in range(n_items)]
            accepted = status not in ("draft", "submitted")
            cases.add(
                id=case_id, number=f"B{region['code']}-{case_id:09d}", kind="bundle" if n_items > 1 else "item",
                status=status, channel="window" if window else "online", title=items[0][0][1][:128],
                region_id=region["code"], intake_region_id=region["code"],
                intake_hall_id=region["hall"].pk if window else None, plan_date=day,
                applicant_kind="enterprise" if enterprise else "person",
                applicant_code=enterprise.uscc if enterprise else user.id_number,
                applicant_name=enterprise.name if enterprise else user.real_name, applicant_user_id=user.pk,
                enterprise_id=enterprise.pk if enterprise else None,
                filed_by_id=region["clerk"].pk if window else user.pk,
                plan={"items": [{"key": f"item-{i}", "item_version": iv[0]} for i, (iv, _) in enumerate(items)]},
                submitted_at=None if status == "draft" else now.replace(year=day.year, month=day.month, day=day.day),
                accepted_on=day if accepted else None, accepted_by_id=region["clerk"].pk if accepted else None,
                created_at=now, updated_at=now)
            statuses = _subcase_statuses(rng, status, n_items)
            for position, (((iv_pk, _name), department), sub_status) in enumerate(zip(items, statuses, strict=True)):
                started_item = sub_status not in ("pending", "waiting", "cancelled")
                due = YEAR_START + timedelta(days=rng.randrange(365)) if started_item else None
                done = sub_status in ("approved", "denied")
                subcases.add(
                    case_id=case_id, key=f"item-{position}", position=position, stage=position + 1, after=[],
                    item_version_id=iv_pk, department_id=department, workflow_id=workflow.pk, status=sub_status,
                    step="review" if sub_status == "active" else "", statutory_days=20, promised_days=10,
                    started_on=due - timedelta(days=20) if due else None,
                    statutory_due=due + timedelta(days=10) if due else None, promised_due=due,
                    decided_on=due if done else None, finished_on=due if done else None)
        with transaction.atomic():
            made_cases += cases.flush()
            made_subs += subcases.flush()
        if made_cases % 20000 == 0 or made_cases == n:
            log(f"  generated {made_cases:,} cases, {made_subs:,} sub-cases ({time.perf_counter() - started:.1f} s)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Case]):
                cursor.execute(sql)
    elapsed = time.perf_counter() - started
    analyze_started = time.perf_counter()
    analyze()
    return {"cases": made_cases, "subcases": made_subs, "seconds": elapsed,
            "analyze_seconds": time.perf_counter() - analyze_started}


def analyze() -> None:
    """Refresh the planner statistics after the bulk load (as autovacuum / a maintenance job would)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE cases_case")
            cursor.execute("ANALYZE cases_subcase")
        else:
            cursor.execute("ANALYZE")
