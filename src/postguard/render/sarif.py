"""SARIF 2.1.0, so that posts kept in git get findings in code-scanning tools and pre-commit.

Each rule's help text is the policy clause it enforces. Findings fixed by the safe copies are
reported with an external suppression rather than dropped, so the record stays complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from postguard import __version__
from postguard.findings import Finding, Report, Severity

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return Path(path).as_posix()


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.rule,
        "name": finding.rule.replace(".", "_"),
        "shortDescription": {"text": finding.message.split(":")[0][:120]},
        "fullDescription": {"text": finding.clause},
        "help": {"text": finding.clause},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"category": finding.category},
    }


def _location(finding: Finding, report: Report) -> dict[str, Any]:
    loc = finding.location
    physical: dict[str, Any]
    if loc.text is not None and loc.field is None and report.text_path:
        region: dict[str, Any] = {
            "charOffset": loc.text.start,
            "charLength": loc.text.end - loc.text.start,
            "snippet": {"text": loc.text.snippet},
        }
        if loc.text.line is not None:
            region.update(startLine=loc.text.line, startColumn=loc.text.column)
        physical = {"artifactLocation": {"uri": _uri(report.text_path)}, "region": region}
    else:
        physical = {
            "artifactLocation": {"uri": _uri(loc.image or report.text_path or report.draft)}
        }
    location: dict[str, Any] = {"physicalLocation": physical}
    props = {k: v for k, v in loc.to_json().items() if k in ("box", "field")}
    if props:
        location["properties"] = props
    return location


def render_sarif(report: Report) -> dict[str, Any]:
    findings = report.sorted_findings()
    rules: dict[str, dict[str, Any]] = {}
    for finding in findings:
        rules.setdefault(finding.rule, _rule(finding))
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": LEVELS[finding.severity],
            "message": {"text": " ".join(x for x in (finding.message, finding.suggestion) if x)},
            "locations": [_location(finding, report)],
            "properties": {"category": finding.category, "explanation": finding.explanation},
        }
        if finding.fixed:
            result["suppressions"] = [
                {"kind": "external", "justification": "fixed in the safe copy written by --out"}
            ]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "postguard",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "properties": {"verdict": report.verdict.value},
            }
        ],
    }
