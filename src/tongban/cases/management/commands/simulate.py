"""`tongban simulate (BUNDLE | --item BASIC_CODE) --region CODE [--intake-region CODE] [--answers JSON]
[--accept-on DATE] [--cases N] [--post ADDRESS] [--json]`

Drives N cases end to end through the real services with the demo staff: the applicant (the region's
demo entrepreneur, or its demo citizen for personal bundles) starts, fills, hands in and submits; the
window clerk accepts on --accept-on; each department's demo officer approves every step, one working
day per step, entering at each decision step the --decide input (else the sample values the
catalogue documents for the result licence's decision fields); results are delivered. With --json and one case, prints the case's timeline.

`--item` files a single item instead of a bundle; `--intake-region` files it at that region's window
(the clerk names the applicant: the item region's demo citizen). On a federation node, an item of a
region a peer serves is accepted here and handed over (异地代收代办): the case stays accepted, its
remote item awaiting the peer; `--post` chooses delivery by post to that address beforehand.
"""

from __future__ import annotations

import json
import time
from datetime import date

from django.core.management.base import CommandError

from tongban.accounts.models import Enterprise, User
from tongban.bundles.models import Bundle
from tongban.cases import selectors, services, simulation
from tongban.core.commands import TongbanCommand, cli_date
from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.regions.models import Region


class Command(TongbanCommand):
    help = "Drive cases of a bundle end to end with the demo staff (load and demo-data generator)."

    def add_arguments(self, parser):
        parser.add_argument("bundle", nargs="?", default="", help="bundle code, e.g. open-restaurant")
        parser.add_argument("--item", default="", help="a single item's basic code instead of a bundle, e.g. 002030001000")
        parser.add_argument("--region", required=True, help="region code (the item's, or the bundle's), e.g. 430100")
        parser.add_argument("--intake-region", default="",
                            help="file at this region's window (its demo clerk) instead of online, e.g. 430100")
        parser.add_argument("--post", default="", help="deliver by post to this address (default: electronic)")
        parser.add_argument("--answers", default="{}", help='questionnaire answers as JSON, e.g. {"area_sqm": 800}')
        parser.add_argument("--accept-on", type=cli_date, default=None, help="acceptance date (default today)")
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
        if bool(o["bundle"]) == bool(o["item"]):
            raise CommandError("请给出一件事编码或 --item 事项基本编码（二选一） / give a bundle or --item, not both")
        accept_on = o["accept_on"] or date.today()
        deny = {k for k in o["deny"].split(",") if k}
        self._check_item_keys(o, answers, accept_on, deny | set(decisions))
        start = self._window_start(o) if o["intake_region"] else self._online_start(o, answers)
        cases, started = [], time.perf_counter()
        for _ in range(o["cases"]):
            try:
                case = start(accept_on)
                if o["post"]:
                    services.choose_delivery(case=case, actor=case.filed_by, method="post", address=o["post"])
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
                remote = [f" {s.key} → {s.remote_node} ({s.remote_region}) {s.remote_status} {s.collab_id}"
                          for s in c.subcases.exclude(remote_node="")]
                self.stdout.write(f"{c.number} {c.status}{''.join(remote)}")
            self.stdout.write(f"{len(cases)} case(s) in {elapsed:.2f} s")

    def _check_item_keys(self, o: dict, answers: dict, on: date, named: set[str]) -> None:
        """--deny and --decide name item keys of this plan: an unknown one is refused, naming it, before
        any case is created (a typo would otherwise approve what was meant to be denied)."""
        # An --item may be a peer node's (its region is not in this database): start_case judges it.
        if o["bundle"] and not Region.objects.filter(code=o["region"]).exists():
            raise CommandError(f"--region: 区划 {o['region']} 不存在 / region {o['region']} does not exist")
        if o["bundle"] and not Bundle.objects.filter(code=o["bundle"]).exists():
            raise CommandError(f"一件事 {o['bundle']} 不存在 / bundle {o['bundle']} does not exist")
        if not named:
            return
        if o["bundle"]:
            from tongban.bundles.selectors import plan_bundle

            try:
                keys = {item["code"] for item in plan_bundle(o["bundle"], o["region"], answers, on=on)["items"]}
            except InvalidInput as exc:
                raise CommandError(str(exc)) from None
        else:
            keys = {o["item"]}
        unknown = sorted(named - keys)
        if unknown:
            raise CommandError(f"--deny/--decide: 未知的事项键 {', '.join(unknown)}；本方案的事项键：{', '.join(sorted(keys))} / "
                               f"unknown item key(s) {', '.join(unknown)}; this plan's keys: {', '.join(sorted(keys))}")

    def _online_start(self, o: dict, answers: dict):
        region = Region.objects.filter(code=o["region"]).first()
        if region is None:
            raise CommandError(f"--region: 区划 {o['region']} 不存在 / region {o['region']} does not exist")
        bundle = Bundle.objects.filter(code=o["bundle"]).first() if o["bundle"] else None
        applicant, enterprise = self._applicant(region, bundle)
        return lambda on: services.start_case(
            actor=applicant, region_code=region.code, bundle_code=o["bundle"], item_code=o["item"], answers=answers,
            enterprise_uscc=enterprise.uscc if enterprise else "", on=on)

    def _window_start(self, o: dict):
        """At the intake region's window: its demo clerk files for the item region's demo citizen (known
        here as an account, or else by the demo's ID number and name: a resident of a peer node)."""
        from tongban.accounts.roles import Role
        from tongban.core.demo import demo_person

        clerk = (User.objects.filter(region_id=o["intake_region"], groups__name=Role.CLERK, is_active=True)
                 .order_by("pk").first())
        if clerk is None:
            raise CommandError(f"区划 {o['intake_region']} 没有演示窗口人员 / no demo clerk in {o['intake_region']}")
        person = User.objects.filter(region_id=o["region"], username__endswith="-citizen").first()
        try:
            id_number, name = (person.id_number, person.real_name) if person else demo_person(o["region"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return lambda on: services.start_case(actor=clerk, region_code=o["region"], bundle_code=o["bundle"],
                                              item_code=o["item"], applicant_id_number=id_number,
                                              applicant_name=name, on=on)

    def _applicant(self, region: Region, bundle: Bundle | None) -> tuple[User, Enterprise | None]:
        enterprise_theme = bundle is not None and bundle.theme == "enterprise"
        slug_users = User.objects.filter(region=region, username__endswith="-boss" if enterprise_theme else "-citizen")
        user = slug_users.first()
        if user is None:
            raise CommandError("该区划没有演示申请人，请先运行 tongban demo load / no demo applicant: run `tongban demo load`")
        enterprise = Enterprise.objects.filter(legal_representative=user).first() if enterprise_theme else None
        return user, enterprise
