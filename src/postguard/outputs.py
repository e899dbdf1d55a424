"""The safe-to-post copies written by `check --out`.

Each image is redacted where consent is missing (and the redaction verified), then re-encoded
without metadata (verified three ways by write_clean), and renamed into place only once both
checks passed. Originals are never opened for writing. No output may hold a pupil's full name,
so file names, alt texts and the post text are written with full names cut to first names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from postguard.atomic import write_text_atomic
from postguard.draft import Draft
from postguard.errors import InputError
from postguard.findings import Report
from postguard.images.metadata import write_clean
from postguard.images.redact import redact, verify_redaction
from postguard.names import without_full_names
from postguard.pipeline import CheckContext, CheckFailed, ImageWork, guarded
from postguard.text.ignores import strip_directives


class RedactionNotVerified(RuntimeError):
    """A redacted face could still be detected and recognised: the copy is not written."""


def check_out_dir(out: Path, draft: Draft) -> None:
    """Refuse an output folder inside a draft folder, or one that holds an original file.

    Safe copies beside their originals get mixed up with them (and a later check of the draft
    folder would attach them); a text-file draft has no folder of its own, so only the folders
    holding its originals are refused.
    """
    resolved = out.resolve()
    if draft.source.is_dir():
        root = draft.source.resolve()
        if resolved == root or root in resolved.parents:
            raise InputError(out, "output folder must not be inside the draft folder")
    originals = [draft.text_path, *(ref.path for ref in draft.images)]
    if any(path is not None and path.resolve().parent == resolved for path in originals):
        raise InputError(out, "output folder holds an original file of the draft")


def write_images(
    report: Report, works: list[ImageWork], out: Path, ctx: CheckContext, *, numbered: bool
) -> list[ImageWork]:
    """Write a safe copy of every image whose checks all ran and whose faces are not blocked.

    Findings the copy fixes (unconsented faces, metadata) are marked fixed. Copies are named
    after the original with any pupil's full name cut to a first name; `numbered` prefixes the
    position in the post (so the order survives), otherwise clashing names get `-2`, `-3`.
    """
    out.mkdir(parents=True, exist_ok=True)
    report.output_dir = str(out)
    written: list[ImageWork] = []
    taken: set[str] = set()
    for index, work in enumerate(works):
        if not work.writable or any(f.decision == "blocked" for f in work.result.faces):
            continue
        base = without_full_names(Path(work.ref.name).stem, ctx.register)
        stem = f"{index + 1:02d}-{base}" if numbered else _unused(base, taken)
        try:
            path = guarded(
                report,
                "redact+write",
                str(work.ref.path),
                lambda w=work, n=stem: _write_image(w, out, n, ctx),
            )
        except CheckFailed:
            continue
        taken.add(stem)
        work.result.output = str(path)
        written.append(work)
        for finding in report.findings:
            if finding.fixable and finding.location.image == str(work.ref.path):
                finding.fixed = True
    return written


def _unused(stem: str, taken: set[str]) -> str:
    candidate, number = stem, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def write_outputs(
    report: Report, draft: Draft, works: list[ImageWork], out: Path, ctx: CheckContext
) -> None:
    """Write the safe copies of the images and the post text beside them.

    Nothing at all is written when part of the post could not be checked (an unreadable image,
    a detector failure, the time limit): a partial set of copies looks like a complete post.
    The name findings stay blocking even though the written text uses first names: a person
    reviews that wording (re-running `check` on the output folder).
    """
    if any(f.category == "unreadable_input" and f.blocks for f in report.findings):
        report.outputs_withheld = True
        return
    images = []
    for work in write_images(report, works, out, ctx, numbered=True):
        entry = {"file": Path(work.result.output or "").name}
        if work.ref.alt:
            entry["alt"] = without_full_names(work.ref.alt, ctx.register)
        images.append(entry)
    front: dict[str, object] = {"channel": ctx.channel, "images": images}
    if draft.date:
        front["date"] = draft.date
    body = without_full_names(strip_directives(draft.body), ctx.register)
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body
    write_text_atomic(out / "post.md", text)


def _write_image(work: ImageWork, out: Path, stem: str, ctx: CheckContext) -> Path:
    """Redact, verify the redaction, then re-encode without metadata (verified by write_clean)."""
    assert work.decoded is not None
    pixels = work.decoded.pixels
    boxes = [f.box for f in work.result.faces if f.decision == "redact"]
    if boxes:
        redacted = redact(pixels, boxes, ctx.config.faces)
        problems = verify_redaction(pixels, redacted, boxes, ctx.config.faces)
        if problems:
            raise RedactionNotVerified("; ".join(problems))
        pixels = redacted
    return write_clean(work.decoded, np.ascontiguousarray(pixels), out, stem)
