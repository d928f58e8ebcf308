"""`tongban export_openapi [FILE]`: write the API's OpenAPI document (committed as docs/openapi.json)."""

import json

from tongban.api.main import api
from tongban.core.commands import TongbanCommand


def openapi_text() -> str:
    return json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(TongbanCommand):
    help = "Write the OpenAPI document of /api/v1/ (default: standard output)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?")

    def handle(self, *args, **opts):
        text = openapi_text()
        if opts["path"]:
            with open(opts["path"], "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")
