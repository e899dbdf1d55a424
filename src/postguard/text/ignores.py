"""Inline ignores: a person takes responsibility for one paragraph, in writing.

Syntax, on its own line before the paragraph it covers:

    <!-- postguard: ignore political.petition reason="quoting the DfE press release" -->

Several rule ids or text categories may be listed (spaces or commas). An ignore needs a reason,
because a silenced finding without one is indistinguishable from a mistake; an ignore that
silenced nothing is reported, because it would otherwise hide the next, different problem in
that paragraph. Ignored findings stay in the report as info, with the reason, for the audit
trail. Only the wording rules can be ignored: consent, faces, names and metadata cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from postguard.clauses import CLAUSES
from postguard.findings import Finding, Location, Severity, TextSpan

DIRECTIVE = re.compile(r"<!--\s*postguard\s*:(?P<body>.*?)-->", re.S | re.I)
IGNORE_BODY = re.compile(
    r"\s*ignore\b(?P<targets>[^=\"']*?)(?:\breason\s*=\s*(?P<reason>.*))?$", re.S
)
QUOTED_REASON = re.compile(r"\"([^\"]*)\"|'([^']*)'|“([^”]*)”")
PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
TEXT_CATEGORIES = frozenset(
    {"political", "personal_view", "non_neutral", "offensive", "attack", "pupil_data"}
)


@dataclass(frozen=True)
class Ignore:
    """One parsed directive: what it silences, why, and which characters it covers."""

    targets: tuple[str, ...]
    reason: str | None
    start: int
    end: int
    covers: tuple[int, int]

    @property
    def span(self) -> TextSpan:
        return TextSpan(self.start, self.end, "<!-- postguard: ignore … -->")


def directive_spans(text: str) -> list[tuple[int, int]]:
    """Where postguard directives sit: they are instructions to postguard, never published."""
    return [m.span() for m in DIRECTIVE.finditer(text)]


def strip_directives(text: str) -> str:
    """The text as it should be published: directives (and the line they stood on) removed."""
    return re.sub(r"[ \t]*" + DIRECTIVE.pattern + r"[ \t]*\n?", "", text, flags=re.S | re.I)


def _reason(raw: str | None) -> str | None:
    if raw is None:
        return None
    quoted = QUOTED_REASON.search(raw)
    text = next((g for g in quoted.groups() if g is not None), "") if quoted else raw
    return " ".join(text.split()) or None


def parse_ignores(text: str) -> tuple[list[Ignore], list[tuple[int, int, str]]]:
    """The ignore directives in `text`, and directives that could not be read (span, problem)."""
    ignores: list[Ignore] = []
    unreadable: list[tuple[int, int, str]] = []
    for match in DIRECTIVE.finditer(text):
        body = IGNORE_BODY.match(match.group("body").strip())
        if body is None:
            unreadable.append((match.start(), match.end(), "unknown postguard directive"))
            continue
        targets = tuple(t for t in re.split(r"[\s,]+", body.group("targets")) if t)
        start = match.end()
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        end_match = PARAGRAPH_END.search(text, start)
        end = end_match.start() if end_match else len(text)
        ignores.append(
            Ignore(targets, _reason(body.group("reason")), match.start(), match.end(), (start, end))
        )
    return ignores, unreadable


def _problem(
    rule: str, category: str, severity: Severity, message: str, span: TextSpan, why: str
) -> Finding:
    return Finding(
        rule=rule,
        category=category,
        severity=severity,
        message=message,
        clause=CLAUSES[category],
        location=Location(text=span),
        explanation=why,
        suggestion='write it as <!-- postguard: ignore RULE_ID reason="why this is acceptable" -->',
    )


def apply_ignores(text: str, findings: list[Finding], rule_ids: dict[str, str]) -> list[Finding]:
    """Silence the findings each valid ignore covers; report every ignore that is not valid.

    `rule_ids` maps every known text rule id to its category. Findings inside a directive
    (its reason may quote the very words) are dropped: a directive is never published.
    """
    ignores, unreadable = parse_ignores(text)
    inside = directive_spans(text)
    kept = [
        f
        for f in findings
        if f.location.text is None or not any(s <= f.location.text.start < e for s, e in inside)
    ]
    out: list[Finding] = []
    for start, end, problem in unreadable:
        span = TextSpan(start, end, text[start:end][:60])
        out.append(
            _problem(
                "ignore.unreadable",
                "unreadable_input",
                Severity.ERROR,
                problem,
                span,
                "postguard cannot tell what this directive means, so it ignores nothing.",
            )
        )
    valid: list[Ignore] = []
    for ignore in ignores:
        unknown = [t for t in ignore.targets if t not in rule_ids and t not in TEXT_CATEGORIES]
        category = next(
            (rule_ids.get(t, t) for t in ignore.targets if rule_ids.get(t, t) in TEXT_CATEGORIES),
            "unreadable_input",
        )
        if not ignore.targets or unknown:
            what = f"unknown text rule or category '{unknown[0]}'" if unknown else "no rule named"
            out.append(
                _problem(
                    "ignore.unknown_rule",
                    category,
                    Severity.ERROR,
                    f"inline ignore: {what}",
                    ignore.span,
                    "Only the wording rules (see `postguard rules list`) can be ignored; "
                    "consent, faces, names and metadata cannot.",
                )
            )
        elif ignore.reason is None:
            out.append(
                _problem(
                    "ignore.missing_reason",
                    category,
                    Severity.ERROR,
                    "inline ignore without a reason",
                    ignore.span,
                    "An ignore must say why the wording is acceptable: the reason is kept "
                    "in the report as the record of that decision.",
                )
            )
        else:
            valid.append(ignore)
    used: set[int] = set()
    for finding in kept:
        index = _covering(finding, valid)
        if index is None:
            out.append(finding)
            continue
        used.add(index)
        ignore = valid[index]
        out.append(
            replace(
                finding,
                severity=Severity.INFO,
                message=f"[ignored] {finding.message}",
                explanation=f"{finding.explanation} Ignored by an inline comment: {ignore.reason}",
            )
        )
    for index, ignore in enumerate(valid):
        if index not in used:
            category = rule_ids.get(ignore.targets[0], ignore.targets[0])
            out.append(
                _problem(
                    "ignore.unused",
                    category,
                    Severity.WARNING,
                    f"inline ignore of {', '.join(ignore.targets)} matched nothing",
                    ignore.span,
                    "The paragraph it covers has no such finding; left in place, it would "
                    "silence a different problem written there later.",
                )
            )
    return out


def _covering(finding: Finding, ignores: list[Ignore]) -> int | None:
    span = finding.location.text
    if span is None or finding.location.field is not None:
        return None
    for index, ignore in enumerate(ignores):
        start, end = ignore.covers
        named = finding.rule in ignore.targets or finding.category in ignore.targets
        if named and start <= span.start < end:
            return index
    return None
