"""Data-sharing exchange: queries per second in-process, with both-sided logging in the audit trail,
against a bare primary-key read of the same register row (the floor), measured in the same run.

    cd /work/main && .venv/bin/python -m benchmarks bench_exchange
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tongban .venv/bin/python -m benchmarks bench_exchange
"""

from __future__ import annotations

import contextlib
import itertools
import os
from datetime import timedelta

from benchmarks.harness import benchmark_database, measure, report

ENTERPRISES = int(os.environ.get("BENCH_EXCHANGE_ENTERPRISES", "1000"))
RUNS = int(os.environ.get("BENCH_EXCHANGE_RUNS", "400"))


def _setup():
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from stdnum.cn import ric, uscc

    from tongban.accounts.models import Enterprise, User
    from tongban.exchange import demo, services
    from tongban.regions.models import Department, Region

    province = Region.objects.create(code="430000", name="湖南省", level="province")
    region = Region.objects.create(code="430100", name="长沙市", level="city", parent=province)
    kinds = ["government_services", "market_regulation", "public_security", "human_resources",
             "natural_resources", "tax", "health"]
    depts = {}
    for i, kind in enumerate(kinds):
        body = f"11430100{i + 1:09d}"
        depts[kind] = Department.objects.create(uscc=body + uscc.calc_check_digit(body), name=f"长沙市{kind}",
                                                kind=kind, region=region)
    people = []
    for n in range(ENTERPRISES):
        body = f"43010219{70 + n % 30}0{1 + n % 9}1{n % 10}{n // 10 % 1000:03d}"
        people.append(User(username=f"p{n}", kind="person", real_name=f"测试{n}", region=region,
                           id_number=body + ric.calc_check_digit(body + "0")))
    User.objects.bulk_create(people)
    people = list(User.objects.filter(kind="person").order_by("pk"))
    enterprises = []
    for n, person in enumerate(people):
        body = f"91430100{n + 1:09d}"
        enterprises.append(Enterprise(uscc=body + uscc.calc_check_digit(body), name=f"长沙市测试餐饮有限公司{n}",
                                      legal_representative=person, address=f"长沙市芙蓉区五一大道{n + 1}号",
                                      region=region))
    Enterprise.objects.bulk_create(enterprises)
    demo.load_registers()
    officer = User.objects.create(username="officer", kind="staff", real_name="赵医", department=depts["health"],
                                  region=region)
    officer.groups.add(Group.objects.get_or_create(name="officer")[0])
    services.grant_request(resource_code="legal_entities", consumer=depts["health"],
                           fields=["name", "legal_representative", "address"], purpose="公共场所卫生许可审查",
                           valid_until=timezone.now() + timedelta(days=365), actor=officer)
    return officer, [e.uscc for e in enterprises]


def main() -> None:
    with benchmark_database() as db:
        from tongban.core.errors import InvalidInput
        from tongban.exchange import services
        from tongban.exchange.models import LegalEntityRecord, QueryLog

        officer, codes = _setup()
        pks = dict(LegalEntityRecord.objects.values_list("uscc", "pk"))
        subjects = itertools.cycle(codes)
        pk_cycle = itertools.cycle([pks[c] for c in codes])

        def bare_read():
            LegalEntityRecord.objects.get(pk=next(pk_cycle))

        def bare_commit():
            # the durability floor: one autocommitted INSERT of a log row, no checks, no audit chain
            QueryLog.objects.create(outcome="granted", resource_code="legal_entities", subject_code=next(subjects),
                                    purpose="bench", case_ref="BENCH-0")

        def granted_query():
            services.query(resource_code="legal_entities", subject=next(subjects), fields=["name", "address"],
                           purpose="公共场所卫生许可审查", case_ref="BENCH-1", actor=officer)

        def refused_query():
            with contextlib.suppress(InvalidInput):
                services.query(resource_code="legal_entities", subject=next(subjects),
                               fields=["legal_representative_id_number"], purpose="公共场所卫生许可审查",
                               case_ref="BENCH-2", actor=officer)

        def prefill():
            services.prefill(subject=next(subjects), standard_fields=["enterprise.name", "enterprise.address",
                                                                      "enterprise.legal_representative.name"],
                             actor=officer, case_ref="BENCH-3")

        rows = [
            measure("bare pk read of the register row", bare_read, runs=RUNS * 4, warmup=50),
            measure("bare INSERT + commit of one log row", bare_commit, runs=RUNS, warmup=20),
            measure("query, granted (checks + fetch + log + audit)", granted_query, runs=RUNS, warmup=20),
            measure("query, refused (field not granted, logged)", refused_query, runs=RUNS, warmup=20),
            measure("prefill 3 enterprise fields", prefill, runs=RUNS // 2, warmup=10),
        ]
        report(f"exchange queries ({db.vendor}, {len(codes)} enterprises, {QueryLog.objects.count()} log rows "
               "at the end)", rows, baseline="bare pk read of the register row")


if __name__ == "__main__":
    main()
