"""`tongban catalog validate|import|export|diff`: the catalogue as files."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError

from tongban.catalog import diff, exporter, selectors, services
from tongban.catalog.format import check_documents, load_documents
from tongban.core.commands import TongbanCommand, operator_label
from tongban.core.errors import InvalidInput, NotFound


class Command(TongbanCommand):
    help = "Validate, import, export and compare catalogue files (tongban.catalog/v1)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("validate", help="check a file or folder; one line per problem")
        v.add_argument("path")
        v.add_argument("--offline", action="store_true", help="do not resolve references against the database")
        i = sub.add_parser("import", help="import a file or folder, all or nothing")
        i.add_argument("path")
        e = sub.add_parser("export", help="export one region as a self-contained document")
        e.add_argument("--region", required=True)
        e.add_argument("--out", help="file to write (default: standard output)")
        d = sub.add_parser("diff", help="compare the regions' implementations of one standard item")
        d.add_argument("--item", required=True, help="basic code (基本编码)")
        d.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        getattr(self, f"_{opts['action']}")(opts)

    def _fail(self, problems) -> None:
        for p in problems:
            self.stderr.write(p.line())
        raise SystemExit(1)

    def _load(self, path: str):
        """The documents at `path`; a directory in the demo's generator format (data/demo) is expanded
        as `tongban demo load` expands it, so what is checked is what would be imported."""
        from tongban.core.demo import build_documents, is_demo_source

        if is_demo_source(path):
            self.stderr.write(f"{path}: 演示数据生成格式，按 demo load 的方式展开后检查 / demo generator format, "
                              "expanded as `tongban demo load` does")
            return build_documents(source=path), []
        return load_documents(path)

    def _validate(self, opts):
        docs, problems = self._load(opts["path"])
        problems += check_documents(docs, use_database=not opts["offline"])
        if not problems and not opts["offline"]:
            problems += selectors.published_version_conflicts(docs)  # what import would refuse
        if problems:
            self._fail(problems)
        self.stdout.write(f"ok: {len(docs)} 个文件有效 / file(s) valid")

    def _import(self, opts):
        docs, problems = self._load(opts["path"])
        if problems:
            self._fail(problems)
        try:
            counts = services.import_documents(documents=docs, actor_label=operator_label())
        except InvalidInput as exc:
            self._fail(exc.problems)
        self.stdout.write("imported: " + ", ".join(f"{k}={v}" for k, v in counts.items()))

    def _export(self, opts):
        try:
            text = exporter.dump_yaml(exporter.export_region(opts["region"]))
        except NotFound as exc:
            raise CommandError(f"区划 {opts['region']} 不存在 / region {opts['region']} not found") from exc
        if opts.get("out"):
            with open(opts["out"], "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)

    def _diff(self, opts):
        try:
            comparison = diff.compare_item(opts["item"])
        except NotFound as exc:
            raise CommandError(f"没有区划实施事项 {opts['item']} / no region implements item {opts['item']}") from exc
        if opts["json"]:
            self.stdout.write(json.dumps(comparison.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(diff.format_text(comparison))
