"""`tongban exchange <verb>`: the data-sharing exchange for operators.

    tongban exchange resources [--json]
    tongban exchange query --resource CODE --subject NUMBER --fields A,B --purpose TEXT --case NUMBER
                           --as USERNAME [--json]
    tongban exchange log --subject NUMBER [--json]          # who queried this person or company
    tongban exchange load-demo                              # demo vocabulary, catalogue, registers, grants

Exit codes: 0 answered; 1 other error (e.g. unknown user); 2 usage; 3 refused (purpose, case, grant,
fields, role ...); 4 not found (resource or subject); 5 the source could not answer. Refusals print
one line per problem in Chinese and English on stderr (and, with --json, a JSON object on stdout).
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone

from tongban.core.commands import TongbanCommand
from tongban.core.errors import InvalidInput, Problem
from tongban.exchange import demo, selectors, services
from tongban.exchange.adapters import AdapterUnavailable
from tongban.exchange.querying import display_subject

EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_UNAVAILABLE = 3, 4, 5


class Command(TongbanCommand):
    help = "数据共享交换：资源目录、查询、查询日志 / data-sharing exchange: catalogue, queries, query log"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="{resources,query,log,load-demo}")

        resources = sub.add_parser("resources", help="数据资源目录 / list the catalogue")
        resources.add_argument("--json", action="store_true", dest="as_json")

        q = sub.add_parser("query", help="查询共享数据（记录日志） / query a resource (logged)")
        q.add_argument("--resource", required=True, metavar="CODE")
        q.add_argument("--subject", required=True, metavar="NUMBER", help="居民身份证号码或统一社会信用代码")
        q.add_argument("--fields", required=True, metavar="A,B", help="数据项，逗号分隔 / comma-separated fields")
        q.add_argument("--purpose", required=True, metavar="TEXT", help="查询目的 / purpose")
        q.add_argument("--case", required=True, dest="case_ref", metavar="NUMBER", help="办件编号 / case reference")
        q.add_argument("--as", required=True, dest="username", metavar="USERNAME", help="经办人 / acting officer")
        q.add_argument("--json", action="store_true", dest="as_json")

        log = sub.add_parser("log", help="某人或某企业被查询的记录 / queries about a subject")
        log.add_argument("--subject", required=True, metavar="NUMBER")
        log.add_argument("--json", action="store_true", dest="as_json")

        sub.add_parser("load-demo", help="载入演示目录、登记库与平台授权 / load the demo registers")

    def handle(self, *args, verb: str, **options):
        getattr(self, "_" + verb.replace("-", "_"))(**options)

    # --- verbs ---

    def _resources(self, *, as_json: bool, **_):
        rows = list(selectors.resources())
        if as_json:
            self.stdout.write(json.dumps([{
                "code": r.code, "name": r.name, "owner": r.owner.name, "owner_uscc": r.owner.uscc,
                "sharing_type": r.sharing_type, "subject_kind": r.subject_kind, "adapter": r.adapter,
                "update_frequency": r.update_frequency, "legal_basis": r.legal_basis,
                "fields": [{"name": f.name, "label": f.label, "type": f.type, "sensitivity": f.sensitivity,
                            "standard_name": f.standard.name if f.standard_id else None} for f in r.fields.all()],
            } for r in rows], ensure_ascii=False, indent=2))
            return
        for r in rows:
            self.stdout.write(f"{r.code:<24} {r.get_sharing_type_display():<6} {r.name}（{r.owner.name}） "
                              f"{', '.join(f.name for f in r.fields.all())}")

    def _query(self, *, resource: str, subject: str, fields: str, purpose: str, case_ref: str, username: str,
               as_json: bool, **_):
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"用户 {username} 不存在 / no user {username}")
        try:
            answer = services.query(resource_code=resource, subject=subject,
                                    fields=[f for f in fields.split(",") if f.strip()], purpose=purpose,
                                    case_ref=case_ref, actor=actor)
        except InvalidInput as exc:
            self._refuse(exc.problems, EXIT_REFUSED, as_json)
        except selectors.ExchangeNotFound as exc:
            self._refuse([exc.problem], EXIT_NOT_FOUND, as_json)
        except AdapterUnavailable as exc:
            self._refuse([exc.problem], EXIT_UNAVAILABLE, as_json)
        if as_json:
            self.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2, default=str))
            return
        p = answer.provenance
        for f in answer.fields:
            shown = f"{f.value}" + (f"（{f.code_label}）" if f.code_label else "")
            self.stdout.write(f"{f.label}（{f.standard_name or f.name}）: {shown}")
        updated = timezone.localtime(p.updated_at).isoformat(timespec="seconds") if p.updated_at else "-"
        self.stdout.write(f"来源 / source: {p.owner}（{p.resource}），更新于 / updated {updated}；查询编号 / ref {answer.ref}")

    def _log(self, *, subject: str, as_json: bool, **_):
        logs = list(selectors.queries_about_subject(subject)[:500])
        items = [{"ref": str(q.ref), "at": timezone.localtime(q.at).isoformat(timespec="seconds"), "subject": display_subject(q.subject_code, q.subject_kind),
                  "resource": q.resource_code, "owner": q.owner.name if q.owner_id else "",
                  "consumer": q.consumer.name if q.consumer_id else "", "fields": selectors.field_labels(q),
                  "purpose": q.purpose, "case_ref": q.case_ref, "outcome": q.outcome, "rule": q.rule} for q in logs]
        if as_json:
            self.stdout.write(json.dumps(items, ensure_ascii=False, indent=2))
            return
        for i in items:
            self.stdout.write(f"{i['at']} {i['outcome']:<8} {i['consumer']} -> {i['resource']} "
                              f"[{'、'.join(i['fields'])}] 目的: {i['purpose']} 办件: {i['case_ref']}")

    def _load_demo(self, **_):
        counts = demo.load_registers()
        self.stdout.write(json.dumps(counts, ensure_ascii=False))

    def _refuse(self, problems: list[Problem], code: int, as_json: bool):
        if as_json:
            self.stdout.write(json.dumps({"ok": False, "problems": [p.as_dict() for p in problems]},
                                         ensure_ascii=False))
        raise CommandError("\n".join(p.line() for p in problems), returncode=code)
