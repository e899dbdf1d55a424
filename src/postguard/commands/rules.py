"""`postguard rules list` and `postguard rules explain ID`: the wording rules, readable.

A comms officer told "political.petition" needs to see what that rule is for, the policy line
behind it, and what it does and does not catch. The examples shown are run live, so a trust
that edits a pack sees at once whether its own examples still behave as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from postguard.commands.options import ConfigOption
from postguard.config import Config, resolve_config
from postguard.errors import InputError
from postguard.findings import Severity

if TYPE_CHECKING:
    from postguard.text.rules import Rule

rules_app = typer.Typer(help="The wording rules: list them, or explain one.", no_args_is_help=True)


def _effective(rule: Rule, config: Config) -> str:
    return config.severity_for(rule.id, rule.category, rule.severity)


@rules_app.command("list")
def list_rules(config: ConfigOption = None) -> None:
    """Every rule: id, category, severity (after the trust's overrides) and policy clause."""
    from postguard.text.rules import active_rules  # spaCy loads only for the commands using it

    settings = resolve_config(config)
    rules = sorted(active_rules(settings), key=lambda r: (r.category, r.id))
    width = max(len(r.id) for r in rules)
    typer.echo(f"{'ID':<{width}}  {'CATEGORY':<13}  {'SEVERITY':<8}  CLAUSE")
    for rule in rules:
        typer.echo(
            f"{rule.id:<{width}}  {rule.category:<13}  {_effective(rule, settings):<8}  "
            f"{' '.join(rule.clause.split())}"
        )
    typer.echo(f"{len(rules)} rules")


def _fires(rule: Rule, sentence: str, config: Config) -> bool:
    from postguard.text.rules import check_text

    return any(
        f.rule == rule.id and f.severity is not Severity.INFO for f in check_text(sentence, config)
    )


@rules_app.command("explain")
def explain(
    rule_id: Annotated[
        str, typer.Argument(metavar="ID", help="A rule id, e.g. political.petition")
    ],
    config: ConfigOption = None,
) -> None:
    """What one rule catches, why, and examples that fire and that do not (checked live)."""
    from postguard.text.rules import active_rules

    settings = resolve_config(config)
    rules = {r.id: r for r in active_rules(settings)}
    rule = rules.get(rule_id)
    if rule is None:
        close = [r for r in rules if r.startswith(rule_id.split(".")[0])][:5]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(rule_id, f"no such rule{hint}; see `postguard rules list`")
    lines = [
        f"{rule.id}  ({rule.category}, {_effective(rule, settings)})",
        f"  policy: {' '.join(rule.clause.split())}",
        f"  finds: {' '.join(rule.message.split())}",
        f"  why: {' '.join(rule.explanation.split())}",
    ]
    if rule.suggestion:
        lines.append(f"  suggestion: {' '.join(rule.suggestion.split())}")
    lines.append(
        "  context: "
        + ", ".join(f"{kind} → {action}" for kind, action in sorted(rule.context.items()))
    )
    for heading, examples, expected in (
        ("fires on", rule.examples.fire, True),
        ("does not fire on", rule.examples.passes, False),
    ):
        if examples:
            lines.append(f"  {heading}:")
            for sentence in examples:
                ok = _fires(rule, sentence, settings) is expected
                lines.append(f"    {'✓' if ok else '✗ (not as written!)'} {sentence}")
    lines.append(f"  pack: {rule.source}")
    typer.echo("\n".join(lines))
