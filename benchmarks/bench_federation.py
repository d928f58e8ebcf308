"""Federation between two local nodes (separate processes and databases, `LocalFederation`):

1. durable messages per second: N hand-overs (one 200 KB material each) from node A to node B and N
   decisions from B to A, queued while the delivery workers are stopped, then drained by one worker per
   node (signed envelope, batch POST, inbox stored before the signed receipt, audit on both sides);
2. the baseline, in the same run and between the same two nodes: bare signed HTTP POSTs of the same
   hand-over (`tongban federation probe`: signed, verified by the peer, answered with a signed echo,
   nothing stored, one request per message);
3. the time from a stopped peer coming back to its backlog of 1,000 messages being drained.

    python -m benchmarks bench_federation          # SQLite files under a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python -m benchmarks bench_federation
    FED_BENCH_N=100 FED_BENCH_BACKLOG=1000 ...      # sizes

Each figure is one timed drain (a multi-process pipeline has no meaningful per-call median); the
ratio to the probe is what to quote.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import setup_django


def _material(size: int) -> dict:
    import base64
    import hashlib

    raw = os.urandom(size)
    return {"name": "材料.pdf", "sha256": hashlib.sha256(raw).hexdigest(), "size": size,
            "media_type": "application/pdf", "content": base64.b64encode(raw).decode()}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main() -> None:
    setup_django()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.federation.nodes import FAST, Nodes, free_port, postgres_base

    from tongban.federation.localfed import LocalFederation, NodeSpec

    n = int(os.environ.get("FED_BENCH_N", "100"))
    backlog = int(os.environ.get("FED_BENCH_BACKLOG", "1000"))
    with tempfile.TemporaryDirectory(prefix="fedbench") as tmp:
        fed = LocalFederation(base_dir=Path(tmp), database_url=postgres_base(), demo_data=False, periodic=False,
                              extra_env={**FAST, "TONGBAN_FED_BATCH": "20"}, db_prefix="tongban_fed_bench",
                              nodes=[NodeSpec("ba", "A", ["430100"], free_port(), offers=[]),
                                     NodeSpec("bb", "B", ["430300"], free_port(), offers=["TESTITEM:1"])])
        nodes = Nodes(fed)
        fed.setup()
        try:
            _run(fed, nodes, n, backlog, Path(tmp))
        finally:
            fed.down()
            fed.drop_databases()


def _delivered(nodes, code: str) -> int:
    return nodes.scalar(code, "SELECT COUNT(*) FROM federation_outboxmessage WHERE status = 'delivered'")


def _run(fed, nodes, n: int, backlog: int, tmp: Path) -> None:
    handover = {"item": {"item_code": "TESTITEM", "version": 1, "basic_code": ""},
                "applicant": {"kind": "person", "name": "彭秀英", "id_number": "430302195803120013"},
                "accepting_region": "430100", "accepted_at": _now(), "materials": [_material(200 * 1024)]}
    decision = {"outcome": "approve", "reason": "符合条件", "decided_at": _now()}
    (tmp / "handover.json").write_text(json.dumps(handover))
    (tmp / "decision.json").write_text(json.dumps(decision))
    for code in ("ba", "bb"):
        fed.start(code, wait=False, worker=False)
    for code in ("ba", "bb"):
        fed.wait_ready(code)
    vendor = "postgresql" if fed.database_url else "sqlite"

    # 1. the baseline: bare signed POSTs of the same hand-over, A's process to B's web server
    probe = json.loads(fed.tongban("ba", "federation", "probe", "bb", "--count", str(n), "--type", "case.handover",
                                   "--payload", f"@{tmp / 'handover.json'}").stdout.strip().splitlines()[-1])
    assert probe["ok"] == n, probe
    bare_per_s = n / probe["total_s"]

    # 2. durable: queue N hand-overs A→B and N decisions B→A, then start one worker per node
    fed.tongban("ba", "federation", "send", "--to", "bb", "--type", "case.handover", "--collab-id", "bench-h",
                "--payload", f"@{tmp / 'handover.json'}", "--count", str(n))
    fed.tongban("bb", "federation", "send", "--to", "ba", "--type", "case.decision", "--collab-id", "bench-d",
                "--payload", f"@{tmp / 'decision.json'}", "--count", str(n))
    start = time.perf_counter()
    fed.start_worker("ba")
    fed.start_worker("bb")
    nodes.wait(lambda: _delivered(nodes, "ba") == n and _delivered(nodes, "bb") == n, timeout=900,
               what="the durable exchange")
    durable_s = time.perf_counter() - start
    durable_per_s = 2 * n / durable_s

    # 3. backlog: B down, 1,000 small messages queued at A, B back: time to drain
    fed.stop("bb")
    fed.tongban("ba", "federation", "send", "--to", "bb", "--type", "ping", "--collab-id", "bench-backlog",
                "--payload", '{"note": "积压"}', "--count", str(backlog), timeout=1800)
    time.sleep(2)  # the worker has failed against the stopped peer and is backing off (≤ 1 s)
    fed.start("bb", wait=True, worker=False)
    back = time.perf_counter()
    nodes.wait(lambda: _delivered(nodes, "ba") == n + backlog, timeout=1800, what="the backlog")
    drain_s = time.perf_counter() - back

    print(f"\n## federation between two local nodes ({vendor}; one gunicorn (4 threads) + one worker per node)")
    print(f"{'case':<64} {'total':>10} {'per s':>10} {'vs bare':>10}")
    print(f"{'bare signed POST of a hand-over (probe, verified, nothing stored)':<64} "
          f"{probe['total_s']:>9.2f}s {bare_per_s:>10.1f} {'1.00x':>10}")
    print(f"{'durable: hand-over 200 KB A→B + decision B→A (messages)':<64} "
          f"{durable_s:>9.2f}s {durable_per_s:>10.1f} {durable_per_s / bare_per_s:>9.2f}x")
    print(f"{f'backlog of {backlog:,} messages drained after the peer is back':<64} "
          f"{drain_s:>9.2f}s {backlog / drain_s:>10.1f} {'-':>10}")


if __name__ == "__main__":
    main()
