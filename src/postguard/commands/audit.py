"""`postguard audit ARCHIVE`: re-check every past post against today's rules and register.

Consent can be withdrawn at any time, so what was fine when it went out may not be now. Each
draft folder (or post text file) in the archive is checked in turn with the same pipeline as
`check`; a draft that cannot be read is reported with its one-line reason and the audit goes on
with the others, because one bad file must not hide the posts that need taking down. Exit 0 when
every post passes (or only warns), 1 when any must come down or could not be checked, 2 when the
archive itself, the config or the register is unusable.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from postguard.commands.options import ConfigOption, RegisterOption
from postguard.config import resolve_config
from postguard.draft import TEXT_NAMES
from postguard.errors import InputError
from postguard.findings import Report


def _drafts(archive: Path) -> list[Path]:
    """Draft folders (holding post.md/post.txt) and loose post text files, in name order."""
    found: list[Path] = []
    for entry in sorted(archive.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() or entry.suffix.lower() in (".md", ".txt"):
            found.append(entry)
    return found


def _summary(report: Report) -> str:
    blocking = [f for f in report.findings if f.blocks]
    reasons = sorted({f.category for f in blocking})
    detail = f": {len(blocking)} blocking ({', '.join(reasons)})" if blocking else ""
    return f"{report.verdict.value.upper():5} {report.draft}{detail}"


def audit(
    archive: Annotated[Path, typer.Argument(help="Folder of past posts (one draft per folder).")],
    register: RegisterOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Re-check every post in ARCHIVE; exit 0 all fine, 1 any to take down or unreadable."""
    from postguard.draft import load_draft
    from postguard.names import mask_report
    from postguard.pipeline import check_draft, make_context

    if not archive.is_dir():
        raise InputError(archive, "archive folder not found")
    settings = resolve_config(config)
    drafts = _drafts(archive)
    if not drafts:
        names = " or ".join(TEXT_NAMES)
        raise InputError(archive, f"no drafts found (folders holding {names})")
    base = make_context(settings, register, None, None)
    worst = 0
    checked = unreadable = 0
    for path in drafts:
        try:
            draft = load_draft(path)
        except InputError as exc:
            unreadable += 1
            worst = 1
            line = {"draft": str(path), "verdict": "error", "error": str(exc)}
            typer.echo(json.dumps(line) if as_json else f"ERROR {exc}")
            continue
        # today's register and today's consent, whatever the post's original date
        ctx = replace(base, channel=draft.channel or settings.channel)
        report, _, post_ctx = check_draft(draft, ctx)
        mask_report(report, post_ctx.register)
        checked += 1
        worst = max(worst, report.exit_code)
        typer.echo(json.dumps(report.to_json()) if as_json else _summary(report))
    if not as_json:
        typer.echo(f"{checked} posts checked, {unreadable} could not be read")
    raise typer.Exit(worst)
