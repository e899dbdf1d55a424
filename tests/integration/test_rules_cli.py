"""`postguard rules list` and `rules explain`: what a comms officer sees about a rule."""

from __future__ import annotations

from cli_helpers import invoke
from postguard.config import Config
from postguard.text.rules import active_rules


def test_list_shows_every_rule_with_category_severity_and_clause(capsys):
    result = invoke(capsys, "rules", "list")
    assert result.code == 0
    rules = active_rules(Config())
    lines = result.out.splitlines()
    assert lines[0].split() == ["ID", "CATEGORY", "SEVERITY", "CLAUSE"]
    assert lines[-1] == f"{len(rules)} rules"
    for rule in rules:
        row = next(line for line in lines if line.startswith(rule.id + " "))
        assert row.split()[1:3] == [rule.category, rule.severity]
        assert " ".join(rule.clause.split()) in row


def test_list_applies_the_trusts_severity_overrides(capsys, tmp_path):
    config = tmp_path / "postguard.toml"
    config.write_text('[severity]\npolitical = "warning"\n', encoding="utf-8")
    out = invoke(capsys, "rules", "list", "--config", config).out
    political = [line.split()[2] for line in out.splitlines() if line.startswith("political.")]
    assert political and set(political) == {"warning"}


def test_explain_runs_the_examples(capsys):
    result = invoke(capsys, "rules", "explain", "political.petition")
    assert result.code == 0
    assert result.out.startswith("political.petition  (political, ")
    assert "policy: Official posts must not take a side" in result.out
    assert "fires on:" in result.out and "does not fire on:" in result.out
    assert "✗" not in result.out, "every shipped example behaves as written"


def test_explain_unknown_rule_is_an_input_error(capsys):
    result = invoke(capsys, "rules", "explain", "political.petitoin")
    assert result.code == 2
    assert "no such rule" in result.err and "political.petition" in result.err
    assert result.err.count("\n") == 1
