"""Golden text cases (tests/golden/text/*.yaml): realistic posts and what they must produce.

The ordinary posts guard the false-alarm target (a checker that cries wolf gets switched off);
the violating posts guard recall per category. Each case is its own test so a regression names
the post that broke.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from postguard.config import Config
from postguard.findings import Finding, Severity
from postguard.text.rules import check_text

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "text"


def _cases() -> list[Any]:
    params = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]):
            params.append(pytest.param(case, id=f"{path.stem}-{i}"))
    return params


def _matches(finding: Finding, want: dict[str, str]) -> bool:
    span = finding.location.text
    return (
        finding.rule == want.get("rule", finding.rule)
        and finding.category == want.get("category", finding.category)
        and finding.severity.value == want.get("severity", finding.severity.value)
        and (span is not None and span.snippet == want.get("snippet", span.snippet))
    )


@pytest.mark.parametrize("case", _cases())
def test_golden_case(case: dict[str, Any]) -> None:
    text = case["text"]
    findings = check_text(text, Config())
    shown = [(f.rule, f.severity.value, f.location.text and f.location.text.snippet)
             for f in findings]
    if case["expect"] == "none":
        assert not [f for f in findings if f.severity is not Severity.INFO], shown
        return
    for want in case["expect"]:
        assert any(_matches(f, want) for f in findings), f"expected {want}, got {shown}"


def test_golden_set_is_big_enough() -> None:
    """The brief: at least 60 cases, of which at least 30 are ordinary posts."""
    cases = [p.values[0] for p in _cases()]
    ordinary = [c for c in cases if c["expect"] == "none"]
    assert len(cases) >= 60
    assert len(ordinary) >= 30
