"""`tongban federation …`: operate a federation node (docs/federation.md §5).

    status [--json]                     this node, peers, outbox and inbox counts
    peers [--json]                      the peer registry
    fingerprint                         this node's signing-key fingerprint (tell peers out of band)
    export-descriptor [--out FILE] [--offer CODE[:VERSION] ...] [--only-listed]
    import-descriptor FILE (--fingerprint HEX | --trust-on-first-use) [--offer ...] [--only-listed]
    rotate-key [--algorithm Ed25519|SM2-SM3]
    send --to NODE --type TYPE --collab-id ID --payload JSON|@FILE [--count N]
    deliver [--once]                    the delivery worker (SIGTERM/SIGINT: stop after the round)
    retry [--all | MESSAGE_ID ...] [--inbox]
    demo up [--json] [--base-dir DIR] [--database-url URL] | stop NODE | start NODE | down | env NODE
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from django.core.management.base import CommandError

from tongban.core.commands import TongbanCommand
from tongban.core.errors import InvalidInput


class Command(TongbanCommand):
    help = "跨域通办节点运维 / operate a federation node"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("status")
        p.add_argument("--json", action="store_true", dest="as_json")
        p = sub.add_parser("peers")
        p.add_argument("--json", action="store_true", dest="as_json")
        sub.add_parser("fingerprint")
        p = sub.add_parser("export-descriptor")
        p.add_argument("--out", default="")
        p.add_argument("--offer", action="append", default=[])
        p.add_argument("--only-listed", action="store_true")
        p = sub.add_parser("import-descriptor")
        p.add_argument("files", nargs="+", metavar="FILE")
        p.add_argument("--fingerprint", action="append", default=[],
                       help="the signing key's fingerprint, once per FILE in the same order")
        p.add_argument("--trust-on-first-use", action="store_true")
        p.add_argument("--offer", action="append", default=[])
        p.add_argument("--only-listed", action="store_true")
        p = sub.add_parser("rotate-key")
        p.add_argument("--algorithm", default=None)
        p = sub.add_parser("send")
        p.add_argument("--to", required=True)
        p.add_argument("--type", required=True)
        p.add_argument("--collab-id", default="")
        p.add_argument("--payload", default="{}")
        p.add_argument("--count", type=int, default=1)
        p = sub.add_parser("probe")
        p.add_argument("node")
        p.add_argument("--count", type=int, default=1)
        p.add_argument("--type", default="ping")
        p.add_argument("--payload", default="{}")
        p = sub.add_parser("deliver")
        p.add_argument("--once", action="store_true")
        p = sub.add_parser("retry")
        p.add_argument("message_ids", nargs="*")
        p.add_argument("--all", action="store_true", dest="all_dead")
        p.add_argument("--inbox", action="store_true")
        p = sub.add_parser("demo")
        p.add_argument("verb", choices=["up", "down", "stop", "start", "env"])
        p.add_argument("node", nargs="?", default="")
        p.add_argument("--json", action="store_true", dest="as_json")
        p.add_argument("--base-dir", default="")
        p.add_argument("--database-url", default="")

    def handle(self, *args, action: str, **opts):
        try:
            return getattr(self, "_" + action.replace("-", "_"))(**opts)
        except InvalidInput as exc:
            for problem in exc.problems:
                self.stderr.write(problem.line())
            raise CommandError("refused", returncode=1) from None

    def _json(self, data) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

    def _status(self, as_json: bool, **_):
        from tongban.federation import selectors

        data = selectors.status()
        if as_json:
            return self._json(data)
        node = data["node"]
        self.stdout.write(f"node {node['code'] or '(not a federation node)'} {node['url']} regions {','.join(node['regions'])}")
        o, i = data["outbox"], data["inbox"]
        self.stdout.write(f"outbox pending {o['pending']} delivered {o['delivered']} dead {o['dead']} "
                          f"oldest pending {o['oldest_pending_s']} s")
        self.stdout.write(f"inbox received {i['received']} duplicates {i['duplicates']} held {i['held']} "
                          f"failed {i['failed']}")
        for peer in data["peers"]:
            self.stdout.write(f"  peer {peer['code']} {peer['url']} sent {peer['sent_seq']} acked {peer['acked_seq']} "
                              f"received {peer['received_contiguous_seq']}/{peer['received_max_seq']} gap {peer['gap']}")
        return None

    def _peers(self, as_json: bool, **_):
        from tongban.federation import selectors

        rows = selectors.peers()
        if as_json:
            return self._json(rows)
        for peer in rows:
            self.stdout.write(f"{peer['code']}\t{peer['url']}\t{','.join(peer['regions'])}\t{peer['status']}\t"
                              f"keys {len(peer['keys'])}\tagreed {peer['agreed_items']}")
        return None

    def _fingerprint(self, **_):
        from tongban.federation import keys

        key = keys.ensure_node_key()
        self.stdout.write(f"{key.key_id} {keys.fingerprint(key)}")

    def _export_descriptor(self, out: str, offer: list[str], only_listed: bool, **_):
        from tongban.federation import keys
        from tongban.federation.descriptors import export_descriptor

        text = json.dumps(export_descriptor(offers=offer, only_listed=only_listed), ensure_ascii=False, indent=2)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            key = keys.ensure_node_key()
            self.stdout.write(f"descriptor written to {out}; signing key {key.key_id} fingerprint {keys.fingerprint(key)}")
        else:
            self.stdout.write(text)

    def _import_descriptor(self, files: list[str], fingerprint: list[str], trust_on_first_use: bool,
                           offer: list[str], only_listed: bool, **_):
        from tongban.federation.descriptors import import_descriptor

        if not trust_on_first_use and len(fingerprint) != len(files):
            raise CommandError("give one --fingerprint per file (or --trust-on-first-use in development)",
                               returncode=2)
        for n, file in enumerate(files):
            try:
                document = json.loads(Path(file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {file}: {exc}", returncode=2) from None
            peer = import_descriptor(document, fingerprint=fingerprint[n] if n < len(fingerprint) else "",
                                     trust_on_first_use=trust_on_first_use, offers=offer, only_listed=only_listed)
            self.stdout.write(f"peer {peer.code} imported ({peer.url}, regions {','.join(peer.regions)})")

    def _rotate_key(self, algorithm: str | None, **_):
        from tongban.federation import keys

        key, previous = keys.rotate_key(algorithm=algorithm)
        self.stdout.write(f"new key {key.key_id} ({key.algorithm}) {keys.fingerprint(key)}; "
                          f"retired {previous.key_id if previous else '-'}: export and send a new descriptor")

    def _send(self, to: str, type: str, collab_id: str, payload: str, count: int, **_):  # noqa: A002
        from tongban.federation.outbox import new_collab_id, send

        try:
            data = json.loads(Path(payload[1:]).read_text(encoding="utf-8") if payload.startswith("@") else payload)
        except (OSError, ValueError):
            raise CommandError("--payload must be JSON or @FILE with JSON", returncode=2) from None
        collab = collab_id or new_collab_id()
        for _i in range(count):
            message = send(receiver=to, type=type, collab_id=collab, payload=data)
            self.stdout.write(f"{message.message_id} seq {message.seq} collab {collab}#{message.collab_seq}")

    def _probe(self, node: str, count: int, type: str, payload: str, **_):  # noqa: A002
        """Signed POSTs to the peer's probe endpoint, verified there, nothing stored: connectivity, keys and
        the cost of a bare signed HTTP round trip (printed as JSON)."""
        import time
        from types import SimpleNamespace

        import httpx

        from tongban.federation.models import Peer
        from tongban.federation.outbox import build_wire
        from tongban.federation.receipts import check_receipt

        try:
            data = json.loads(Path(payload[1:]).read_text(encoding="utf-8") if payload.startswith("@") else payload)
        except (OSError, ValueError):
            raise CommandError("--payload must be JSON or @FILE with JSON", returncode=2) from None
        peer = Peer.objects.filter(code=node).first()
        if peer is None:
            raise CommandError(f"no peer {node}", returncode=2)
        ok, timings = 0, []
        with httpx.Client(timeout=30) as client:
            for _i in range(count):
                start = time.perf_counter()
                wire = build_wire(receiver=node, type=type, collab_id="probe", collab_seq=1, seq=1, payload=data)
                response = client.post(f"{peer.url}/federation/v1/probe", json={"probe": wire})
                if response.status_code == 200:
                    sent = SimpleNamespace(message_id=wire["envelope"]["message_id"], seq=1, envelope=wire["envelope"])
                    ok += int(check_receipt(peer, sent, response.json().get("echo")) == "")
                timings.append(time.perf_counter() - start)
        total = sum(timings)
        self.stdout.write(json.dumps({"peer": node, "count": count, "ok": ok, "total_s": round(total, 4),
                                      "per_s": round(count / total, 1) if total else None,
                                      "median_ms": round(sorted(timings)[len(timings) // 2] * 1000, 2)}))

    def _deliver(self, once: bool, **_):
        from tongban.federation import conf
        from tongban.federation.outbox import run

        if not conf.enabled():
            raise CommandError("TONGBAN_NODE_CODE is not set: not a federation node", returncode=2)
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *a: stop.set())
        total = run(stop=stop, once=once)
        if once:
            self.stdout.write(f"claimed {total}")

    def _retry(self, message_ids: list[str], all_dead: bool, inbox: bool, **_):
        from tongban.federation import inbox as inbox_module
        from tongban.federation.outbox import retry

        if inbox:
            self.stdout.write(f"inbox messages to apply again: {inbox_module.retry_failed()}")
            return
        if not message_ids and not all_dead:
            raise CommandError("name message ids or --all", returncode=2)
        self.stdout.write(f"dead letters due again: {retry(message_ids=message_ids, all_dead=all_dead)}")

    def _demo(self, verb: str, node: str, as_json: bool, base_dir: str, database_url: str, **_):
        from tongban.federation import localfed

        fed = localfed.LocalFederation(base_dir=Path(base_dir) if base_dir else None, database_url=database_url)
        if verb in {"stop", "start", "env"} and node not in fed.codes():
            raise CommandError(f"name a node: {', '.join(fed.codes())}", returncode=2)
        if verb == "up":
            info = fed.up(log=None if as_json else self.stdout.write)
            if as_json:
                return self._json(info)
            for n in info["nodes"]:
                self.stdout.write(f"{n['code']}\t{','.join(n['regions'])}\t{n['url']}")
        elif verb == "down":
            fed.down()
        elif verb == "stop":
            fed.stop(node)
        elif verb == "start":
            fed.start(node)
        elif verb == "env":
            for name, value in fed.node_env(node).items():
                sys.stdout.write(f"export {name}={value}\n")
        return None
