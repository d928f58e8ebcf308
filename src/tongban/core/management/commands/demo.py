"""`tongban demo load`: load the demo regions, catalogue, bundles, staff and applicants (idempotent)."""

from django.core.management.base import CommandError

from tongban.core import demo
from tongban.core.commands import TongbanCommand
from tongban.core.errors import InvalidInput
from tongban.core.profile import demo_enabled


class Command(TongbanCommand):
    help = "Demo data for the seven demo regions (idempotent)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load or refresh the demo data")
        load.add_argument("--regions", default="", help="only these demo regions, comma-separated (e.g. 430300)")

    def handle(self, *args, **opts):
        if not demo_enabled():
            # Demo accounts share a published password: never on a production site by accident.
            self.stderr.write("the demo is off in this profile (production); set TONGBAN_DEMO=1 to load it anyway")
            raise SystemExit(2)
        regions = [c.strip() for c in opts.get("regions", "").split(",") if c.strip()] or None
        try:
            counts = demo.load(regions)
        except ValueError as exc:  # an unknown region code
            raise CommandError(str(exc), returncode=2) from None
        except InvalidInput as exc:
            for p in exc.problems:
                self.stderr.write(p.line())
            raise SystemExit(1) from None
        self.stdout.write("demo loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        self.stdout.write(f"demo password for every account: {demo.DEMO_PASSWORD}")
