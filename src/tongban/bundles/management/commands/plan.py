"""`tongban plan BUNDLE --region CODE --answers JSON`: print the one-thing plan as JSON."""

from __future__ import annotations

import json

from tongban.bundles.selectors import plan_bundle
from tongban.core.commands import TongbanCommand, cli_date
from tongban.core.errors import InvalidInput


class Command(TongbanCommand):
    help = "Plan a one-thing bundle for a region and the applicant's answers; prints JSON."

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--region", required=True)
        parser.add_argument("--answers", default="{}", help='JSON object, e.g. \'{"area_sqm": 800}\'')
        parser.add_argument("--on", type=cli_date, help="plan with the versions in force on this date (YYYY-MM-DD)")

    def handle(self, *args, **opts):
        try:
            answers = json.loads(opts["answers"])
            if not isinstance(answers, dict):
                raise ValueError
        except ValueError:
            self.stderr.write("answers: [json] --answers 应为 JSON 对象 / --answers must be a JSON object")
            raise SystemExit(2) from None
        try:
            plan = plan_bundle(opts["bundle"], opts["region"], answers,
                               on=opts.get("on"))
        except InvalidInput as exc:
            for p in exc.problems:
                self.stderr.write(p.line())
            raise SystemExit(1) from None
        self.stdout.write(json.dumps(plan, ensure_ascii=False, indent=2))
