"""`tongban licence <verb>`: the electronic licence library from the command line.

    tongban licence list [--holder CODE] [--json]
    tongban licence export ID [--out FILE]
    tongban licence verify FILE [--trust FILE] [--region CODE]     exit 0 valid, 1 invalid, 2 unreadable
    tongban licence trust-export REGION [--out FILE]
    tongban licence refresh                                         re-sign status and trust lists due
    tongban licence rotate-key USCC [--algorithm Ed25519|SM2-SM3]
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from tongban.core.commands import TongbanCommand, operator_label, read_json_file
from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.licences import crypto, selectors, services, trust
from tongban.licences.verification import trust_from_file, verify_licence_document
from tongban.regions.models import Department


class Command(TongbanCommand):
    help = "电子证照库 / electronic licence library"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)

        ls = sub.add_parser("list", help="列出证照 / list licences")
        ls.add_argument("--holder", default=None, metavar="CODE", help="持证主体代码 / holder ID number or USCC")
        ls.add_argument("--json", action="store_true", dest="as_json")

        export = sub.add_parser("export", help="导出可离线核验的证照文件 / export a self-contained licence file")
        export.add_argument("licence_id", type=int, metavar="ID")
        export.add_argument("--out", default=None, metavar="FILE")

        verify = sub.add_parser("verify", help="核验证照文件 / verify a licence file")
        verify.add_argument("file", metavar="FILE")
        verify.add_argument("--trust", default=None, metavar="FILE",
                            help="信任列表或信任包（离线核验） / trust list or bundle (offline verification)")
        verify.add_argument("--region", default=None, metavar="CODE",
                            help="以该区划的信任关系核验 / verify with this region's trust")

        texport = sub.add_parser("trust-export", help="导出区划信任包 / export a region's trust bundle")
        texport.add_argument("region", metavar="REGION")
        texport.add_argument("--out", default=None, metavar="FILE")

        sub.add_parser("refresh", help="重新签发到期的状态列表和信任列表 / re-sign status and trust lists due")

        rotate = sub.add_parser("rotate-key", help="轮换发证部门签名密钥 / rotate an issuer's signing key")
        rotate.add_argument("uscc", metavar="USCC")
        rotate.add_argument("--algorithm", choices=crypto.ALGORITHMS, default=None)

    def handle(self, *args, verb: str, **options):
        try:
            getattr(self, "_" + verb.replace("-", "_"))(**options)
        except InvalidInput as exc:
            raise CommandError("\n".join(p.line() for p in exc.problems), returncode=2) from exc
        except Conflict as exc:
            raise CommandError(exc.problem.line(), returncode=2) from exc
        except NotFound as exc:
            raise CommandError(f"不存在 / not found: {exc}", returncode=2) from exc

    def _list(self, *, holder: str | None, as_json: bool, **_):
        rows = [{"id": lic.pk, "identifier": lic.identifier, "type": lic.licence_type.code,
                 "holder": lic.holder_code, "status": selectors.display_status(lic)}
                for lic in selectors.licences_list(holder_code=holder)]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for row in rows:
            self.stdout.write(f"{row['id']:>6} {row['identifier']} {row['status']}")

    def _export(self, *, licence_id: int, out: str | None, **_):
        self.write_json(selectors.export_bundle(selectors.get_licence(licence_id)), out)

    def _verify(self, *, file: str, trust: str | None, region: str | None, **_):
        document = read_json_file(file)
        context = trust_from_file(read_json_file(trust)) if trust else region
        result = verify_licence_document(document, trust=context)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if not result.valid:
            raise CommandError(f"{result.reason_zh} / {result.reason_en}", returncode=1)

    def _trust_export(self, *, region: str, out: str | None, **_):
        self.write_json(trust.export_trust_bundle(region), out)

    def _refresh(self, **_):
        lists = services.refresh_status_lists()
        trusts = trust.refresh_trust_lists()
        self.stdout.write(f"状态列表 / status lists: {lists}; 信任列表 / trust lists: {trusts}")

    def _rotate_key(self, *, uscc: str, algorithm: str | None, **_):
        department = Department.objects.filter(uscc=uscc).first()
        if department is None:
            raise NotFound(uscc)
        key = services.rotate_signing_key(department=department, algorithm=algorithm, actor_label=operator_label())
        self.stdout.write(f"{key.key_id} ({key.algorithm})")
