"""The `postguard` command line. Exit codes are a contract: 0 pass or warnings only,
1 blocked, 2 usage, input or configuration error (one line on stderr naming the file)."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from postguard import modelfiles
from postguard.commands.register import register_app
from postguard.commands.rules import rules_app
from postguard.config import CHANNELS, resolve_config
from postguard.errors import InputError

app = typer.Typer(
    help="Check an official school post against the trust's social-media policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Model files shipped in PyPI packages, pinned by sha256.")
app.add_typer(models_app, name="models")
app.add_typer(register_app, name="register")
app.add_typer(rules_app, name="rules")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def _channel(value: str | None) -> str | None:
    if value is not None and value not in CHANNELS:
        raise typer.BadParameter(f"'{value}' is not one of {', '.join(CHANNELS)}")
    return value


@app.command()
def check(
    draft: Annotated[
        Path, typer.Argument(help="Draft folder (post.md/post.txt + photos) or text file.")
    ],
    image: Annotated[
        list[Path] | None, typer.Option("--image", help="Attach an image (repeatable).")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(help=f"Where it will be posted: {', '.join(CHANNELS)}.", callback=_channel),
    ] = None,
    register: Annotated[
        Path | None, typer.Option(help="Consent register folder [default: ./consent_data].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Policy file [default: ./postguard.toml if present].")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
    out: Annotated[
        Path | None, typer.Option(help="Write safe-to-post copies (redacted, no metadata) here.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="With --out: report what would be fixed, write nothing.")
    ] = False,
) -> None:
    """Check one draft post; exit 0 pass/warn, 1 blocked, 2 input error."""
    from postguard.consent.register import load_register
    from postguard.draft import load_draft
    from postguard.names import mask_report
    from postguard.outputs import check_out_dir, write_outputs
    from postguard.pipeline import CheckContext, check_draft
    from postguard.render.sarif import render_sarif
    from postguard.render.text import render_text

    settings = resolve_config(config)
    loaded = load_draft(draft, image or [])
    if out is not None:
        check_out_dir(out, loaded)
    today = date.today()
    ctx = CheckContext(
        config=settings,
        register=load_register(register or settings.register),
        channel=channel or loaded.channel or settings.channel,
        on=max(today, loaded.date) if loaded.date else today,
    )
    report, works = check_draft(loaded, ctx)
    if out is not None and not dry_run:
        write_outputs(report, loaded, works, out, ctx)
    mask_report(report, ctx.register)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif output_format is OutputFormat.sarif:
        typer.echo(json.dumps(render_sarif(report), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_text(report))
    raise typer.Exit(report.exit_code)


@models_app.command("verify")
def models_verify() -> None:
    """Check every model file against its pinned sha256."""
    for name, path in modelfiles.verify_all():
        typer.echo(f"ok  {name}  {path}")


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code; input errors become one line on stderr."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="postguard")
    except (InputError, modelfiles.ModelError) as exc:
        typer.echo(f"postguard: error: {exc}", err=True)
        return 2
    except typer.Abort:
        typer.echo("postguard: aborted", err=True)
        return 2
    except typer.TyperException as exc:  # Typer's own (vendored click) usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"postguard: usage error: {' '.join(message.split())}", err=True)
        return 2
    return int(code or 0)


def main() -> None:
    sys.exit(run())
