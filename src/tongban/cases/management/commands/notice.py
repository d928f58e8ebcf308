"""`tongban notice <verb>`: signed notices (告知书、决定书) from the command line.

    tongban notice export NUMBER [--out FILE]                     the notice's signed JSON document
    tongban notice verify FILE [--trust FILE] [--region CODE]     exit 0 valid, 1 invalid, 2 unreadable

Offline: export the issuing region's trust bundle once (`tongban licence trust-export REGION --out
trust.json`), then `tongban notice verify notice.json --trust trust.json` needs no platform.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from tongban.cases import notices
from tongban.cases.models import Notice
from tongban.core.commands import TongbanCommand, read_json_file
from tongban.licences.verification import trust_from_file


class Command(TongbanCommand):
    help = "文书 / signed notices"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        export = sub.add_parser("export", help="导出文书签名文件 / export a notice's signed JSON")
        export.add_argument("number", metavar="NUMBER")
        export.add_argument("--out", default=None, metavar="FILE")
        verify = sub.add_parser("verify", help="核验文书签名文件 / verify a notice's signed JSON")
        verify.add_argument("file", metavar="FILE")
        verify.add_argument("--trust", default=None, metavar="FILE",
                            help="信任列表或信任包（离线核验） / trust list or bundle (offline verification)")
        verify.add_argument("--region", default=None, metavar="CODE",
                            help="以该区划的信任关系核验 / verify with this region's trust")

    def handle(self, *args, verb: str, **options):
        getattr(self, "_" + verb)(**options)

    def _export(self, *, number: str, out: str | None, **_):
        notice = Notice.objects.select_related("signing_key").filter(number=number).first()
        if notice is None:
            raise CommandError(f"文书不存在 / no such notice: {number}", returncode=2)
        document = notices.signed_document(notice)
        if document is None:
            raise CommandError(f"文书 {number} 签发于电子签名启用之前，未加签名 / notice {number} predates signing "
                               "and is unsigned", returncode=2)
        self.write_json(document, out)

    def _verify(self, *, file: str, trust: str | None, region: str | None, **_):
        document = read_json_file(file)
        context = trust_from_file(read_json_file(trust)) if trust else region
        result = notices.verify_document(document, trust=context)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        if not result["valid"]:
            raise CommandError(f"{result['reason_zh']} / {result['reason_en']}", returncode=1)
