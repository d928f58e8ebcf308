"""`tongban audit verify [--from-seq N] [--batch-size N] [--json]`: check the audit hash chain.

Exit status 0 when the chain is intact, 1 when it is broken (the first broken entry is named in
Chinese and English), 2 for bad arguments.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from tongban.core.commands import TongbanCommand
from tongban.core.errors import InvalidInput

from ...services import verify_chain


class Command(TongbanCommand):
    help = "审计日志工具 / audit trail tools: verify"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify}")
        verify = sub.add_parser("verify", help="校验审计哈希链 / verify the audit hash chain")
        verify.add_argument("--from-seq", type=int, default=None,
                            help="从该序号开始校验（信任其前一条的哈希） / start at this seq")
        verify.add_argument("--batch-size", type=int, default=2000,
                            help="每批读取的记录数 / entries read per batch")
        verify.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
        verify.add_argument("--database", default="default", help="数据库别名 / database alias")

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            return self._verify(options)
        raise CommandError(f"unknown subcommand {options['subcommand']!r}", returncode=2)  # pragma: no cover

    def _verify(self, options):
        try:
            result = verify_chain(from_seq=options["from_seq"], batch_size=options["batch_size"],
                                  using=options["database"])
        except InvalidInput as exc:
            raise CommandError("\n".join(p.line() for p in exc.problems), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": result.ok, "checked": result.checked, "first_broken_seq": result.first_broken_seq,
                "problem": result.problem, "entry_id": result.entry_id, "action": result.action,
                "rule": result.rule, "last_seq": result.last_seq, "last_hash": result.last_hash,
            }, ensure_ascii=False))
            if not result.ok:
                raise CommandError(f"审计链已损坏 / audit chain broken at seq {result.first_broken_seq}",
                                   returncode=1)
            return
        if result.ok:
            tail = f" (last seq {result.last_seq}, hash {result.last_hash})" if result.last_seq else ""
            self.stdout.write(f"ok: {result.checked} entries verified / 已校验 {result.checked} 条审计记录，哈希链完整{tail}")
            return
        where = f"seq {result.first_broken_seq}"
        if result.entry_id is not None:
            where += f", id {result.entry_id}, action {result.action}"
        raise CommandError(
            f"审计链已损坏 / audit chain BROKEN: first broken entry {where} [{result.rule}]\n"
            f"  {result.problem_zh}\n  {result.problem_en}\n"
            f"  ({result.checked} entries verified intact before it / 之前 {result.checked} 条完好)",
            returncode=1,
        )
