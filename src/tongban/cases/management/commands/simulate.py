"""`tongban simulate BUNDLE --region CODE --answers JSON [--accept-on DATE] [--cases N] [--json]`

Drives N cases end to end through the real services with the demo staff: the applicant (the region's
demo entrepreneur, or its demo citizen for personal bundles) starts, fills, hands in and submits; the
window clerk accepts on --accept-on; each department's demo officer approves every step, one working
day per step, entering at each decision step the --decide input (else the sample values the
catalogue documents for the result licence's decision fields); results are delivered. With --json and one case, prints the case's timeline.
"""

from __future__ import annotations

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.models import Enterprise, User
from tongban.bundles.models import Bundle
from tongban.cases import selectors, services, simulation
from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.regions.models import Region


class Command(BaseCommand):
    help = "Drive cases of a bundle end to end with the demo staff (load and demo-data generator)."

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="bundle code, e.g. open-restaurant")
        parser.add_argument("--region", required=True, help="region code, e.g. 430100")
        parser.add_argument("--answers", default="{}", help='questionnaire answers as JSON, e.g. {"area_sqm": 800}')
        parser.add_argument("--accept-on", type=date.fromisoformat, default=None, help="acceptance date (default today)")
        parser.add_argument("--cases", type=int, default=1)
        parser.add_argument("--deny", default="", help="comma-separated item keys whose decision is a denial")
        parser.add_argument("--decide", default="{}",
                            help='the simulated officers\' decision input per item key as JSON, e.g. '
                                 '{"company-registration": {"类型": "股份有限公司"}}; fields not given take the '
                                 "sample the catalogue documents for them")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        try:
            answers = json.loads(o["answers"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--answers: 不是有效的 JSON / not valid JSON: {exc}") from None
        if not isinstance(answers, dict):
            raise CommandError("--answers: 应为 JSON 对象 / must be a JSON object")
        try:
            decisions = json.loads(o["decide"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--decide: 不是有效的 JSON / not valid JSON: {exc}") from None
        if not isinstance(decisions, dict) or not all(isinstance(v, dict) for v in decisions.values()):
            raise CommandError("--decide: 应为 {事项键: {字段: 值}} / must be {item key: {field: value}}")
        if o["cases"] < 1:
            raise CommandError("--cases: 至少 1 / at least 1")
        region = Region.objects.filter(code=o["region"]).first()
        bundle = Bundle.objects.filter(code=o["bundle"]).first()
        if region is None or bundle is None:
            raise CommandError("未知的区划或一件事 / unknown region or bundle")
        applicant, enterprise = self._applicant(region, bundle)
        accept_on = o["accept_on"] or date.today()
        deny = {k for k in o["deny"].split(",") if k}
        cases, started = [], time.perf_counter()
        for _ in range(o["cases"]):
            try:
                case = services.start_case(actor=applicant, region_code=region.code, bundle_code=bundle.code,
                                           answers=answers, enterprise_uscc=enterprise.uscc if enterprise else "",
                                           on=accept_on)
                cases.append(simulation.drive(case, accept_on=accept_on, deny=deny, decisions=decisions))
            except (InvalidInput, Conflict, NotFound) as exc:
                raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        if o["json"]:
            out = selectors.timeline(cases[0]) if len(cases) == 1 else [
                {"number": c.number, "status": c.status} for c in cases]
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            for c in cases:
                self.stdout.write(f"{c.number} {c.status}")
            self.stdout.write(f"{len(cases)} case(s) in {elapsed:.2f} s")

    def _applicant(self, region: Region, bundle: Bundle) -> tuple[User, Enterprise | None]:
        slug_users = User.objects.filter(region=region, username__endswith="-boss" if bundle.theme == "enterprise"
                                         else "-citizen")
        user = slug_users.first()
        if user is None:
            raise CommandError("该区划没有演示申请人，请先运行 tongban demo load / no demo applicant: run `tongban demo load`")
        enterprise = Enterprise.objects.filter(legal_representative=user).first() if bundle.theme == "enterprise" else None
        return user, enterprise
