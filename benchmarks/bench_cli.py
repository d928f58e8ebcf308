"""How long a `tongban` command takes to start, against bare Python and a bare `django.setup()` of
the same settings, in the same run (`python -m benchmarks bench_cli`).

Each figure is the median wall time of whole processes (the command as a user types it), with the
CPU time (user + system) beside it: on a shared machine the CPU time is the steadier of the two.
The commands chosen need neither the search index nor the PDF font, so they should start in
well under a second (issue 15); `plan` and `licence list` read the demo database if it is there.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "7"))
BIN = Path(sys.executable).parent

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "django.setup() only": [sys.executable, "-c",
                            "import os; os.environ['DJANGO_SETTINGS_MODULE']='tongban.settings'; "
                            "import django; django.setup()"],
    "tongban --help": [str(BIN / "tongban"), "--help"],
    "tongban workdays add": [str(BIN / "tongban"), "workdays", "add", "--from", "2026-09-28", "--days", "20"],
    "tongban catalog validate data/demo": [str(BIN / "tongban"), "catalog", "validate", "data/demo"],
    "tongban audit verify": [str(BIN / "tongban"), "audit", "verify"],
}


def _run(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    print(f"\n## CLI start-up (median of {RUNS} processes each; load average {os.getloadavg()[0]:.1f})")
    print(f"{'command':<40} {'wall ms':>10} {'cpu ms':>10} {'wall vs setup':>14}")
    rows = {}
    for name, argv in COMMANDS.items():
        _run(argv)  # warm the page cache
        samples = [_run(argv) for _ in range(RUNS)]
        rows[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    setup_wall = rows["django.setup() only"][0]
    for name, (wall, cpu) in rows.items():
        print(f"{name:<40} {wall * 1000:>10.0f} {cpu * 1000:>10.0f} {wall / setup_wall:>13.2f}x")


if __name__ == "__main__":
    main()
