"""`tongban audit verify [--partition P [--from-seq N]] [--batch-size N] [--json]`: check the audit
trail (every anchor, then every partition's hash chain against its head and the latest anchor).
`tongban audit anchor [--force] [--json]`: sign an anchor over the partition heads now (the background
runner does this every TONGBAN_AUDIT_ANCHOR_SECONDS); prints its number and Merkle root to publish.

Exit status 0 when the trail is intact, 1 when it is broken (the first broken entry or anchor is
named in Chinese and English), 2 for bad arguments.
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
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,anchor}")
        verify = sub.add_parser("verify", help="校验审计哈希链 / verify the audit hash chain")
        verify.add_argument("--partition", type=int, default=None,
                            help="只校验该分区 / verify only this partition")
        verify.add_argument("--from-seq", type=int, default=None,
                            help="从分区内该序号开始校验（信任其前一条的哈希，需 --partition） / start at this seq "
                                 "of --partition")
        verify.add_argument("--batch-size", type=int, default=2000,
                            help="每批读取的记录数 / entries read per batch")
        verify.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
        verify.add_argument("--database", default="default", help="数据库别名 / database alias")
        anchor = sub.add_parser("anchor", help="立即签发锚定记录 / sign an anchor over the partition heads now")
        anchor.add_argument("--force", action="store_true", help="即使链头未变化 / even if no head moved")
        anchor.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
        anchor.add_argument("--database", default="default", help="数据库别名 / database alias")

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            return self._verify(options)
        if options["subcommand"] == "anchor":
            return self._anchor(options)
        raise CommandError(f"unknown subcommand {options['subcommand']!r}", returncode=2)  # pragma: no cover

    def _verify(self, options):
        try:
            result = verify_chain(partition=options["partition"], from_seq=options["from_seq"],
                                  batch_size=options["batch_size"], using=options["database"])
        except InvalidInput as exc:
            raise CommandError("\n".join(p.line() for p in exc.problems), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": result.ok, "checked": result.checked, "partition": result.partition,
                "first_broken_seq": result.first_broken_seq, "problem": result.problem,
                "entry_id": result.entry_id, "action": result.action, "rule": result.rule,
                "last_seq": result.last_seq, "last_hash": result.last_hash, "partitions": result.partitions,
                "anchor_number": result.anchor_number, "anchor_root": result.anchor_root,
                "anchor_at": result.anchor_at, "anchors": result.anchors,
            }, ensure_ascii=False))
            if not result.ok:
                raise CommandError(f"审计链已损坏 / audit chain broken: {self._where(result)}", returncode=1)
            return
        if result.ok:
            tail = f" (last seq {result.last_seq}, hash {result.last_hash})" if result.last_seq else ""
            anchor = (f"; latest anchor {result.anchor_number} ({result.anchor_at}), root {result.anchor_root}"
                      if result.anchor_number else "; not anchored yet / 尚无锚定记录")
            self.stdout.write(f"ok: {result.checked} entries verified in {result.partitions} partitions / "
                              f"已校验 {result.checked} 条审计记录，哈希链完整{tail}{anchor}")
            return
        where = self._where(result)
        if result.entry_id is not None:
            where += f", id {result.entry_id}, action {result.action}"
        raise CommandError(
            f"审计链已损坏 / audit chain BROKEN: first broken entry {where} [{result.rule}]\n"
            f"  {result.problem_zh}\n  {result.problem_en}\n"
            f"  ({result.checked} entries verified intact before it / 之前 {result.checked} 条完好)",
            returncode=1,
        )

    @staticmethod
    def _where(result) -> str:
        if result.partition is None:
            return f"anchor {result.anchor_number}"
        return f"partition {result.partition} seq {result.first_broken_seq}"

    def _anchor(self, options):
        from ...anchors import make_anchor

        anchor = make_anchor(using=options["database"], force=options["force"])
        if anchor is None:
            message = {"ok": True, "anchored": False}
            text = "no partition head moved since the last anchor / 链头未变化，未签发新锚定"
        else:
            message = {"ok": True, "anchored": True, "number": anchor.number, "at": anchor.at.isoformat(),
                       "root": anchor.root, "hash": anchor.hash, "key_id": anchor.key.key_id,
                       "partitions": len(anchor.heads)}
            text = (f"anchor {anchor.number} at {anchor.at.isoformat()}: root {anchor.root}, hash {anchor.hash} "
                    f"({len(anchor.heads)} partitions, key {anchor.key.key_id}) / 已签发锚定 {anchor.number}")
        self.stdout.write(json.dumps(message, ensure_ascii=False) if options["json"] else text)
