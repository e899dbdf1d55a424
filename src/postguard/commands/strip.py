"""`postguard strip IMAGE... --out DIR`: clean copies of photos, without a post around them.

For staff who only need a photo they can share: the same code path as `check --out`, so a copy
never carries metadata and never shows a face without consent for the channel unredacted. Only
the image checks matter here; there is no post text, so the verdict is per image: written, or
not written and why. Exit 0 when every image got a copy, 1 when any did not, 2 for input errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postguard.commands.check import print_report
from postguard.commands.options import (
    ChannelOption,
    ConfigOption,
    FormatOption,
    OutputFormat,
    RegisterOption,
)
from postguard.config import resolve_config
from postguard.errors import InputError
from postguard.findings import ImageResult, Report, Severity


def _summary(image: ImageResult, report: Report) -> str:
    if image.output is None:
        reasons = [
            f.message
            for f in report.findings
            if f.location.image == image.path and f.severity is Severity.ERROR and not f.fixed
        ]
        return f"{image.path}: not written: {reasons[0] if reasons else 'check failed'}"
    removed = sorted({m.field for m in image.metadata if m.kind != "technical"})
    redacted = sum(1 for face in image.faces if face.decision == "redact")
    details = [f"removed {', '.join(removed)}"] if removed else ["no identifying metadata"]
    details.append(f"{redacted} face(s) redacted, {len(image.faces) - redacted} kept")
    return f"{image.path} → {image.output} ({'; '.join(details)})"


def strip(
    images: Annotated[list[Path], typer.Argument(help="Photos to copy without metadata.")],
    out: Annotated[Path, typer.Option(help="Folder for the clean copies.")],
    channel: ChannelOption = None,
    register: RegisterOption = None,
    config: ConfigOption = None,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Clean copies: metadata removed, faces without consent for the channel redacted."""
    from postguard.draft import Draft, ImageRef
    from postguard.names import mask_report
    from postguard.outputs import check_out_dir, write_images
    from postguard.pipeline import check_draft, make_context

    for path in images:
        if not path.is_file():
            raise InputError(path, "no such file" if not path.exists() else "not a file")
    photos = Draft(
        source=images[0],
        text_path=None,
        body="",
        images=[ImageRef(path, path.name) for path in images],
    )
    check_out_dir(out, photos)
    ctx = make_context(resolve_config(config), register, channel, None)
    report, works, ctx = check_draft(photos, ctx)
    written = write_images(report, works, out, ctx, numbered=False)
    mask_report(report, ctx.register)
    if output_format is OutputFormat.text:
        typer.echo("\n".join(_summary(image, report) for image in report.images))
    else:
        print_report(report, output_format)
    raise typer.Exit(0 if len(written) == len(images) else 1)
