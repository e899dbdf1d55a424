"""How the thresholds of the learned (`similar`) rules were chosen, on the tuning splits only.

For each category, the share of tuning posts (the dev, dev2 and dev3 splits) of that category
with at least one sentence the learned rule would accept (recall of the learned part alone), and the
share of ordinary tuning posts with one (false alarms), over a grid of `min_similarity` ×
`margin`. The test and holdout splits are never read here: they stay blind for `make eval`.
Usage: .venv/bin/python bench/tune_semantic.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from postguard.text.nlp import build_nlp
from postguard.text.rules import Similar
from postguard.text.semantic import Verdict, classify, worth_embedding

ROOT = Path(__file__).resolve().parents[1]
TUNING = [ROOT / "tests" / "corpus" / f"{split}.yaml" for split in ("dev", "dev2", "dev3")]
CATEGORIES = ("political", "personal_view", "non_neutral", "offensive", "attack", "pupil_data")
SIMILARITIES = (0.40, 0.45, 0.48, 0.50, 0.55)
MARGINS = (0.02, 0.04, 0.06, 0.08, 0.10, 0.12)


def _share(posts: list[list[Verdict]], rule: Similar) -> float:
    """Percentage of posts with a sentence the rule would accept at these thresholds."""
    hits = sum(any(rule.accepts(v) for v in verdicts) for verdicts in posts)
    return 100 * hits / max(1, len(posts))


def main() -> int:
    nlp = build_nlp()
    posts = [
        post for path in TUNING for post in yaml.safe_load(path.read_text("utf-8"))["posts"]
    ]
    verdicts = []
    for post in posts:
        sentences = [s.text.strip() for s in nlp(post["text"]).sents if worth_embedding(s.text)]
        verdicts.append((set(post["labels"]), classify(sentences)))
    ordinary = [v for labels, v in verdicts if not labels]
    for category in CATEGORIES:
        members = [v for labels, v in verdicts if category in labels]
        print(f"\n{category}: {len(members)} posts; rows min_similarity, columns margin; "
              "cell = recall % / ordinary posts flagged %")
        print("      " + "".join(f"{m:>11.2f}" for m in MARGINS))
        for sim in SIMILARITIES:
            cells = []
            for margin in MARGINS:
                rule = Similar(category, sim, margin)
                recall, false = _share(members, rule), _share(ordinary, rule)
                cells.append(f"{recall:5.0f}/{false:<4.1f}")
            print(f"{sim:5.2f} " + "".join(f"{c:>11}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
