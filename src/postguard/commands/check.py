"""`postguard check DRAFT`: may this post go out, why not, and safe copies of its photos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from postguard.commands.options import (
    ChannelOption,
    ConfigOption,
    FormatOption,
    OutputFormat,
    RegisterOption,
)
from postguard.config import resolve_config
from postguard.findings import Report


def print_report(report: Report, output_format: OutputFormat) -> None:
    from postguard.render.sarif import render_sarif
    from postguard.render.text import render_text

    if output_format is OutputFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif output_format is OutputFormat.sarif:
        typer.echo(json.dumps(render_sarif(report), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_text(report))


def check(
    draft: Annotated[
        Path, typer.Argument(help="Draft folder (post.md/post.txt + photos) or text file.")
    ],
    image: Annotated[
        list[Path] | None, typer.Option("--image", help="Attach an image (repeatable).")
    ] = None,
    channel: ChannelOption = None,
    register: RegisterOption = None,
    config: ConfigOption = None,
    output_format: FormatOption = OutputFormat.text,
    out: Annotated[
        Path | None, typer.Option(help="Write safe-to-post copies (redacted, no metadata) here.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="With --out: report what would be fixed, write nothing.")
    ] = False,
) -> None:
    """Check one draft post; exit 0 pass/warn, 1 blocked, 2 input error."""
    from postguard.draft import load_draft
    from postguard.names import mask_report
    from postguard.outputs import check_out_dir, write_outputs
    from postguard.pipeline import check_draft, make_context

    settings = resolve_config(config)
    loaded = load_draft(draft, image or [])
    if out is not None:
        check_out_dir(out, loaded)
    ctx = make_context(settings, register, channel or loaded.channel, loaded.date)
    report, works, ctx = check_draft(loaded, ctx)
    if out is not None and not dry_run:
        write_outputs(report, loaded, works, out, ctx)
    mask_report(report, ctx.register)
    print_report(report, output_format)
    raise typer.Exit(report.exit_code)
