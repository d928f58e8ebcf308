"""`tongban demo load`: load the demo regions, catalogue, bundles, staff and applicants (idempotent)."""

from django.core.management.base import BaseCommand

from tongban.core import demo
from tongban.core.errors import InvalidInput


class Command(BaseCommand):
    help = "Demo data for the seven demo regions (idempotent)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="load or refresh the demo data")

    def handle(self, *args, **opts):
        try:
            counts = demo.load()
        except InvalidInput as exc:
            for p in exc.problems:
                self.stderr.write(p.line())
            raise SystemExit(1) from None
        self.stdout.write("demo loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        self.stdout.write(f"demo password for every account: {demo.DEMO_PASSWORD}")
