"""Run every benchmark script in this folder: `python -m benchmarks` (or `make bench`)."""

import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks.harness import setup_django

if __name__ == "__main__":
    setup_django()
    wanted = set(sys.argv[1:])
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("bench_") and (not wanted or module.name in wanted):
            importlib.import_module(f"benchmarks.{module.name}").main()
