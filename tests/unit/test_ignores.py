"""Inline ignores: justified, scoped to one paragraph, and never silent when misused."""

from __future__ import annotations

import pytest

from postguard.config import Config
from postguard.findings import Severity
from postguard.text.ignores import apply_ignores, parse_ignores, strip_directives
from postguard.text.rules import active_rules, check_text

PETITION = "We urge every family to sign the petition against these shameful cuts."
CONFIG = Config()


@pytest.fixture(scope="module")
def rule_ids() -> dict[str, str]:
    return {rule.id: rule.category for rule in active_rules(CONFIG)}


def _run(text: str, rule_ids: dict[str, str]):
    return apply_ignores(text, check_text(text, CONFIG), rule_ids)


def _political(findings):
    return [f for f in findings if f.category == "political"]


def _severities(findings) -> list[Severity]:
    return sorted(f.severity for f in findings)


def test_the_sentence_is_political_without_an_ignore(rule_ids):
    found = _political(_run(PETITION, rule_ids))
    assert Severity.ERROR in _severities(found)


def test_ignore_with_reason_silences_the_next_paragraph_only(rule_ids):
    text = (
        "The DfE wrote to schools this week.\n\n"
        '<!-- postguard: ignore political reason="quoting the DfE letter word for word" -->\n'
        f"{PETITION}\n\n"
        f"{PETITION}\n"
    )
    findings = _run(text, rule_ids)
    second = text.rindex(PETITION)
    ignored = [f for f in _political(findings) if f.location.text.start < second]
    still = [f for f in _political(findings) if f.location.text.start >= second]
    assert ignored and all(f.severity is Severity.INFO for f in ignored)
    assert all(f.message.startswith("[ignored]") for f in ignored)
    assert all("quoting the DfE letter word for word" in f.explanation for f in ignored)
    assert _severities(still) == _severities(_political(_run(PETITION, rule_ids)))


def test_ignore_by_rule_id(rule_ids):
    rule = _political(_run(PETITION, rule_ids))[0].rule
    text = f"<!-- postguard: ignore {rule} reason='agreed by the head' -->\n{PETITION}"
    findings = _run(text, rule_ids)
    assert [f.severity for f in findings if f.rule == rule] == [Severity.INFO]


def test_ignore_without_reason_is_an_error_and_ignores_nothing(rule_ids):
    text = f"<!-- postguard: ignore political -->\n{PETITION}"
    findings = _run(text, rule_ids)
    missing = [f for f in findings if f.rule == "ignore.missing_reason"]
    assert len(missing) == 1 and missing[0].severity is Severity.ERROR
    assert missing[0].location.text.start == 0
    assert Severity.ERROR in _severities(_political(findings))


def test_ignore_that_matched_nothing_is_reported(rule_ids):
    text = '<!-- postguard: ignore offensive reason="old habit" -->\nOur choir sang beautifully.'
    findings = _run(text, rule_ids)
    assert [(f.rule, f.severity) for f in findings] == [("ignore.unused", Severity.WARNING)]


@pytest.mark.parametrize(
    "target", ["names.full_name_with_image", "faces.no_consent", "politcal", "metadata.gps"]
)
def test_only_wording_rules_can_be_ignored(rule_ids, target):
    text = f'<!-- postguard: ignore {target} reason="because" -->\n{PETITION}'
    findings = _run(text, rule_ids)
    assert [f.rule for f in findings if f.rule.startswith("ignore.")] == ["ignore.unknown_rule"]
    assert Severity.ERROR in _severities(_political(findings))


def test_words_inside_the_directive_are_not_checked(rule_ids):
    text = '<!-- postguard: ignore attack reason="we do not say shame on the council" -->\nHello.'
    assert [f.rule for f in _run(text, rule_ids)] == ["ignore.unused"]


def test_unknown_directive_is_an_error(rule_ids):
    findings = _run("<!-- postguard: skip everything -->\nHello", rule_ids)
    assert [(f.rule, f.severity) for f in findings] == [("ignore.unreadable", Severity.ERROR)]


def test_parse_covers_and_reason_quotes():
    text = (
        "Intro.\n<!-- postguard: ignore political, attack reason=“as agreed” -->\n\n"
        "Para one.\nStill one.\n\nPara two."
    )
    [ignore], unreadable = parse_ignores(text)
    assert unreadable == []
    assert ignore.targets == ("political", "attack")
    assert ignore.reason == "as agreed"
    assert text[slice(*ignore.covers)] == "Para one.\nStill one."


def test_directives_are_stripped_from_what_is_published():
    text = 'Intro.\n<!-- postguard: ignore political reason="x" -->\nPara one.\n'
    assert strip_directives(text) == "Intro.\nPara one.\n"
