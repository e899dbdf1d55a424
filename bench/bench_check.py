"""Time `postguard check` on the bundled demo draft, as a comms officer runs it.

Runs the installed command (start-up, model verification, spaCy, face detection, matching,
metadata) a few times, with and without `--out`, and prints the median wall-clock seconds.
Usage: .venv/bin/python bench/bench_check.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "postguard"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"postguard failed: {result.stderr.strip()}")
    return elapsed


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "check demo (text report)": ["check", "fixtures/demo"],
            "check demo --out (redact + strip + verify)": [
                "check",
                "fixtures/demo",
                "--out",
                str(Path(tmp) / "out"),
            ],
            "--help (start-up only)": ["--help"],
        }
        print(f"| case | median of {runs} runs (s) |\n|---|---|")
        for name, args in cases.items():
            times = [timed(args) for _ in range(runs)]
            print(f"| {name} | {statistics.median(times):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
