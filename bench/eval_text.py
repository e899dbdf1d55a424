"""Precision, recall and F1 of the text checks, per category.

Two sources: the project's golden posts (tests/golden/text/*.yaml: ordinary.yaml holds posts that
must not be flagged, every other file holds posts violating the category it is named after), and
the general-purpose corpora in ../shared/data/text/*.tsv (label<TAB>text<TAB>source), where a
sentence counts as flagged when a finding of the mapped categories reaches warning or error.
Usage: .venv/bin/python bench/eval_text.py [--write]   (--write: also into docs/benchmarks.md,
between the eval markers; `make eval` does this)
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import yaml

from postguard.config import Config
from postguard.findings import Severity
from postguard.text.rules import active_rules, check_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "text"
# dev.yaml, dev2.yaml and dev3.yaml (tuning allowed); test.yaml, holdout.yaml and
# holdout2.yaml (never used for tuning)
CORPUS = ROOT / "tests" / "corpus"
SHARED = ROOT.parent / "shared" / "data" / "text"
CATEGORIES = ("political", "personal_view", "non_neutral", "offensive", "attack", "pupil_data")
# shared file -> (positive label, categories that count as flagging it)
SHARED_TASKS = {
    "eval_offensive.tsv": ("offensive", {"offensive", "attack"}),
    "eval_bias.tsv": ("biased", {"non_neutral", "political", "personal_view", "attack"}),
    "eval_partisan.tsv": ("partisan", {"political", "personal_view", "non_neutral", "attack"}),
}


def flagged(text: str, config: Config) -> set[str]:
    """Categories with at least one warning or error finding."""
    return {
        f.category
        for f in check_text(text, config)
        if f.severity in (Severity.ERROR, Severity.WARNING)
    }


def prf(tp: int, fp: int, fn: int) -> str:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f"{precision:.2f} | {recall:.2f} | {f1:.2f}"


def golden(config: Config) -> list[str]:
    posts: list[tuple[str, str]] = []  # (true category or "ordinary", text)
    for path in sorted(GOLDEN.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            posts.append((path.stem, case["text"]))
    results = [(truth, flagged(text, config)) for truth, text in posts]
    ordinary = [cats for truth, cats in results if truth == "ordinary"]
    rows = [
        f"Golden posts: {len(posts)} ({len(ordinary)} ordinary). Ordinary posts with a warning "
        f"or error: {sum(bool(c) for c in ordinary)} of {len(ordinary)}.",
        "",
        "| category | posts | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for category in CATEGORIES:
        tp = sum(1 for t, c in results if t == category and category in c)
        fp = sum(1 for t, c in results if t != category and category in c)
        fn = sum(1 for t, c in results if t == category and category not in c)
        rows.append(f"| {category} | {tp + fn} | {prf(tp, fp, fn)} |")
    return rows


def corpus(config: Config, split: str, label: str = "") -> list[str]:
    """The blind corpus (written without sight of the rules): ordinary false alarms, and per
    category both "caught" (any warning or error) and precision/recall of that category."""
    posts = [
        (set(p["labels"]), p["text"])
        for p in yaml.safe_load((CORPUS / f"{split}.yaml").read_text(encoding="utf-8"))["posts"]
    ]
    results = [(labels, flagged(text, config)) for labels, text in posts]
    ordinary = [cats for labels, cats in results if not labels]
    rows = [
        f"Blind corpus, {split} split{label}: {len(posts)} posts. Ordinary posts with a warning or "
        f"error: {sum(bool(c) for c in ordinary)} of {len(ordinary)} "
        f"({100 * sum(bool(c) for c in ordinary) / max(1, len(ordinary)):.1f} %).",
        "",
        "| category | posts | caught (any finding) | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    for category in CATEGORIES:
        members = [cats for labels, cats in results if category in labels]
        caught = sum(bool(c) for c in members)
        tp = sum(1 for labels, c in results if category in labels and category in c)
        fp = sum(1 for labels, c in results if category not in labels and category in c)
        fn = len(members) - tp
        share = 100 * caught / max(1, len(members))
        rows.append(
            f"| {category} | {len(members)} | {caught} ({share:.0f} %) | {prf(tp, fp, fn)} |"
        )
    return rows


def shared(config: Config) -> list[str]:
    if not SHARED.is_dir():
        return [f"(shared corpora not found at {SHARED})"]
    rows = ["| file | sentences | precision | recall | F1 |", "|---|---|---|---|---|"]
    for name, (positive, categories) in SHARED_TASKS.items():
        tp = fp = fn = total = 0
        with (SHARED / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                total += 1
                hit = bool(flagged(row["text"], config) & categories)
                truth = row["label"] == positive
                tp += hit and truth
                fp += hit and not truth
                fn += truth and not hit
        rows.append(f"| {name} | {total} | {prf(tp, fp, fn)} |")
    return rows


DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- eval:text:start -->", "<!-- eval:text:end -->"


def main() -> int:
    config = Config()
    # the same blind splits with the learned (sentence-similarity) rules switched off, to show
    # what they add
    patterns = Config(disabled_rules=[r.id for r in active_rules(config) if r.similar])
    blind = ("test", "holdout", "holdout2")
    sections = [
        *(corpus(config, split) for split in blind),
        *(corpus(patterns, split, ", patterns only") for split in blind),
        *(corpus(config, split) for split in ("dev", "dev2", "dev3")),
        golden(config), shared(config),
    ]
    report = "\n\n".join("\n".join(rows) for rows in sections)
    print(report)
    if "--write" in sys.argv[1:]:
        doc = DOC.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        stamp = f"Measured {date.today().isoformat()} by `make eval`.\n\n"
        DOC.write_text(f"{head}{START}\n{stamp}{report}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
