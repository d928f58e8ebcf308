"""`tongban cases sweep [--on DATE] [--json]`: run the deadline sweep once (idempotent)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from tongban.cases import services
from tongban.cases.services.supervision import SweepIncomplete
from tongban.core.commands import TongbanCommand, cli_date


class Command(TongbanCommand):
    help = "Case handling operations: sweep (warnings, overdue records, deemed acceptance, 容缺 promises)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="run the deadline sweep once")
        sweep.add_argument("--on", type=cli_date, default=None, help="business date (default: today)")
        sweep.add_argument("--json", action="store_true")

    def handle(self, *args, action: str, **options):
        if action != "sweep":
            raise CommandError(f"unknown action {action}")
        try:
            counts = services.sweep(on=options["on"])
        except SweepIncomplete as exc:  # the rest ran; the failed cases are logged with their numbers
            raise CommandError(str(exc), returncode=1) from exc
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
        else:
            self.stdout.write(", ".join(f"{k}={v}" for k, v in counts.items()))
