"""`tongban guide "QUERY"`: the smart guide from the command line."""

import json

from tongban.bundles import guide
from tongban.core.commands import TongbanCommand


class Command(TongbanCommand):
    help = "Search bundles and items in everyday Chinese (智能导办)."

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--limit", type=int, default=5)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        hits = guide.search(opts["query"], opts["limit"])
        if opts["json"]:
            self.stdout.write(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=2))
            return
        if not hits:
            self.stdout.write("没有找到相关事项 / nothing found")
        for h in hits:
            self.stdout.write(f"{h.score:6.2f}  {h.kind:<6} {h.code:<16} {h.name}")
