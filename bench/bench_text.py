"""Speed of the text checks: start-up in a fresh process, then posts per second on one core.

Start-up is what a comms officer waits for before the first finding: importing spaCy, building
the pipeline, compiling every rule pack, loading the sentence model and the vectors of its
example sentences (from the cache) and embedding the first sentence (median of 5 fresh
processes). Throughput runs the
realistic posts of the blind corpus and the golden set, pinned to one core, for at least 5 s.
Usage: .venv/bin/python bench/bench_text.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STARTUP = (
    "import time; t = time.perf_counter();"
    "from postguard.config import Config; from postguard.text.rules import check_text;"
    "check_text('Well done to Year 6, who sang beautifully at the Harvest service today.',"
    " Config()); print(time.perf_counter() - t)"
)


def posts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "corpus").glob("*.yaml")):
        texts += [p["text"] for p in yaml.safe_load(path.read_text(encoding="utf-8"))["posts"]]
    for path in sorted((ROOT / "tests" / "golden" / "text").glob("*.yaml")):
        texts += [c["text"] for c in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]]
    return texts


def main() -> int:
    starts = [
        float(
            subprocess.run(
                [sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    os.sched_setaffinity(0, {0})
    from postguard.config import Config
    from postguard.text.rules import check_text

    config = Config()
    texts = posts()
    check_text(texts[0], config)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < 5:
        for text in texts:
            check_text(text, config)
        done += len(texts)
    elapsed = time.perf_counter() - start
    chars = sum(map(len, texts)) / len(texts)
    print("| measure | value |\n|---|---|")
    print(
        f"| start-up to first finding (median of 5 processes) | {statistics.median(starts):.2f} s |"
    )
    print(
        f"| throughput, one core ({len(texts)} posts, {chars:.0f} chars on average) | "
        f"{done / elapsed:.0f} posts/s |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
