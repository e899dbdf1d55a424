"""Run every check on one draft, failing closed.

The order follows DESIGN.md §3: text rules (body and alt texts), then each image (decode,
metadata, faces), then the consent decision for every face, then the cross-check of pupils' full
names against everything the post carries. Any exception inside a check becomes a blocking
finding that names the check and the file: a check that did not run must never look like a
check that passed. Writing the safe copies is `outputs.py`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

from postguard.clauses import CLAUSES
from postguard.config import Config
from postguard.consent.decide import build_matcher, decide_faces, face_findings
from postguard.consent.register import Register, load_register
from postguard.crosscheck import full_name_findings, post_register
from postguard.draft import VIDEO_SUFFIXES, Draft, ImageRef
from postguard.errors import InputError
from postguard.findings import Finding, ImageResult, Location, Report, Severity
from postguard.images.decode import DecodedImage, ImageDecodeError, decode_image
from postguard.images.faces import DetectedFace, detect_faces
from postguard.images.metadata import metadata_findings, scan_metadata
from postguard.images.ocr import ocr_source
from postguard.names import without_full_names
from postguard.text.ignores import apply_ignores
from postguard.text.rules import active_rules, check_text

T = TypeVar("T")
NAME_CATEGORIES = frozenset({"full_name_with_image", "pupil_data"})


class CheckFailed(Exception):
    """A check could not complete; it has already been reported as a blocking finding."""


@dataclass
class CheckContext:
    """Everything one check run needs, resolved once by the caller."""

    config: Config
    register: Register
    channel: str
    on: date


def make_context(
    config: Config, register: Path | None, channel: str | None, publish_on: date | None
) -> CheckContext:
    """Resolve what a check needs: the register (fully valid, or an input error), the channel
    (given, else the config's), and the day consent must hold (publication date if later)."""
    today = date.today()
    return CheckContext(
        config=config,
        register=load_register(register or config.register),
        channel=channel or config.channel,
        on=max(today, publish_on) if publish_on else today,
    )


@dataclass
class ImageWork:
    """One attached image as the checks left it: what `--out` needs to write its safe copy."""

    ref: ImageRef
    result: ImageResult
    decoded: DecodedImage | None = None
    detected: list[DetectedFace] = field(default_factory=list)
    writable: bool = True
    ocr_text: str | None = None


def _failure(check: str, where: str, problem: str, fix: str | None = None) -> Finding:
    return Finding(
        rule=f"input.{check}",
        category="unreadable_input",
        severity=Severity.ERROR,
        message=f"{check} check could not run on {where}: {problem}",
        clause=CLAUSES["unreadable_input"],
        location=Location(field=where) if check == "text" else Location(image=where),
        explanation="postguard fails closed: what could not be checked cannot be posted.",
        suggestion=fix,
    )


def guarded(report: Report, check: str, where: str, run: Callable[[], T]) -> T:
    """Run one check; any error becomes a blocking finding naming the check and the file.

    Input errors (the user must fix the draft, config or register) still end the command.
    """
    try:
        return run()
    except InputError:
        raise
    except ImageDecodeError as exc:
        fix = exc.fix or "re-export the photo as JPEG"
        report.findings.append(_failure(check, where, str(exc), fix))
    except Exception as exc:  # fail closed on anything a check raises
        detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        report.findings.append(_failure(check, where, detail[:200]))
    raise CheckFailed(check)


def _check_body(text: str, config: Config) -> list[Finding]:
    """Wording rules over the post body, then its inline ignores (body only: alt texts and
    file names cannot carry directives)."""
    rule_ids = {rule.id: rule.category for rule in active_rules(config)}
    return apply_ignores(text, check_text(text, config), rule_ids)


def _check_text(report: Report, draft: Draft, config: Config) -> None:
    """The body and every alt text, each guarded on its own."""
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("post text", lambda: _check_body(draft.body, config))
    ]
    checks += [
        (f"alt text of {ref.name}", lambda r=ref: check_text(r.alt, config, field=f"alt:{r.name}"))
        for ref in draft.images
        if ref.alt
    ]
    for where, run in checks:
        with contextlib.suppress(CheckFailed):
            report.findings += guarded(report, "text", where, run)


def _unchecked_findings(draft: Draft) -> list[Finding]:
    return [
        Finding(
            rule="input.not_checked",
            category="unreadable_input",
            severity=Severity.WARNING,
            message=f"{path.name} is in the draft folder but is not part of the post",
            clause=CLAUSES["unreadable_input"],
            location=Location(image=str(path)),
            explanation="Only post.md/post.txt and the attached images were checked.",
            suggestion="move it out of the draft folder, or attach it in the front matter",
        )
        for path in draft.unchecked
    ]


def _scan_image(report: Report, ref: ImageRef, ctx: CheckContext) -> ImageWork:
    """Decode, read metadata and find faces; failures become blocking findings."""
    name = str(ref.path)
    work = ImageWork(ref, ImageResult(path=name))
    report.images.append(work.result)
    try:
        if ref.path.suffix.lower() in VIDEO_SUFFIXES:
            raise ImageDecodeError("video: postguard does not process video; post stills instead")
        limit = ctx.config.limits.max_pixels
        decoded = guarded(report, "decode", name, lambda: decode_image(ref.path, limit))
        work.decoded = decoded
        work.result.size = (decoded.pixels.shape[1], decoded.pixels.shape[0])
        work.result.metadata = guarded(report, "metadata", name, lambda: scan_metadata(ref.path))
        report.findings += metadata_findings(name, work.result.metadata)
        # OCR that cannot run is a warning (ocr_source); only a crash blocks, and even then the
        # safe copy may still be written: OCR reads the image, it does not change it.
        with contextlib.suppress(CheckFailed):
            work.ocr_text, problem = guarded(
                report, "ocr", name, lambda: ocr_source(decoded.pixels, name)
            )
            report.findings += [problem] if problem else []
        work.detected = guarded(
            report, "faces", name, lambda: detect_faces(decoded.pixels, ctx.config.faces)
        )
    except ImageDecodeError as exc:
        report.findings.append(_failure("decode", name, str(exc)))
        work.writable = False
    except CheckFailed:
        work.writable = False
    return work


def _scan_images(report: Report, refs: list[ImageRef], ctx: CheckContext) -> list[ImageWork]:
    """Scan every image within the post's time limit; images left when it runs out block."""
    deadline = time.monotonic() + ctx.config.limits.post_seconds
    works: list[ImageWork] = []
    for ref in refs:
        if time.monotonic() > deadline:
            work = ImageWork(ref, ImageResult(path=str(ref.path)), writable=False)
            report.images.append(work.result)
            seconds = ctx.config.limits.post_seconds
            report.findings.append(
                _failure(
                    "time-limit", str(ref.path), f"not checked: the post took over {seconds:g} s"
                )
            )
            works.append(work)
            continue
        works.append(_scan_image(report, ref, ctx))
    return works


def _decide_faces(report: Report, works: list[ImageWork], ctx: CheckContext) -> None:
    """Match faces against enrolled pupils, only when some image has faces.

    Only then is the encodings store read, and only then do its warnings (pupils not enrolled,
    stale encodings) concern the post.
    """
    with_faces = [(w, w.decoded) for w in works if w.detected and w.decoded is not None]
    if not with_faces:
        return
    settings = ctx.config.faces
    try:
        matcher, register_findings = guarded(
            report,
            "enrolment",
            str(ctx.register.directory),
            lambda: build_matcher(ctx.register, settings),
        )
    except CheckFailed:
        for work, _ in with_faces:
            work.writable = False
        return
    report.findings += register_findings
    for work, decoded in with_faces:
        pixels = decoded.pixels
        try:
            work.result.faces = guarded(
                report,
                "consent",
                str(work.ref.path),
                lambda w=work, p=pixels: decide_faces(
                    p, w.detected, matcher, ctx.register, ctx.channel, ctx.on, settings
                ),
            )
        except CheckFailed:
            work.writable = False
            continue
        report.findings += face_findings(str(work.ref.path), work.result.faces, ctx.channel)


def _locate_in_body(report: Report, draft: Draft, register: Register) -> None:
    """Give body findings a line:column in the post file and a name-safe context line."""
    for finding in report.findings:
        span = finding.location.text
        if span is None or finding.location.field is not None:
            continue
        line = draft.body_line + draft.body.count("\n", 0, span.start)
        column = span.start - (draft.body.rfind("\n", 0, span.start) + 1) + 1
        finding.location = replace(finding.location, text=replace(span, line=line, column=column))
        before = " ".join(draft.body[max(0, span.start - 60) : span.start].split())
        after = " ".join(draft.body[span.end : span.end + 60].split())
        words = (
            span.snippet
            if finding.category in NAME_CATEGORIES
            else draft.body[span.start : span.end]
        )
        finding.context = (
            f"…{without_full_names(before, register)} »{words}« "
            f"{without_full_names(after, register)}…"
        )


def check_draft(
    draft: Draft, ctx: CheckContext
) -> tuple[Report, list[ImageWork], CheckContext]:
    """All checks on one draft; the report says what must change before it may be posted.

    Also returns the context for this post: its register holds the probable pupils the post
    names by cues (crosscheck.post_register), which the report mask and the safe copies need.
    """
    report = Report(
        draft=str(draft.source),
        channel=ctx.channel,
        text_path=str(draft.text_path) if draft.text_path else None,
    )
    _check_text(report, draft, ctx.config)
    report.findings += _unchecked_findings(draft)
    works = _scan_images(report, draft.images, ctx)
    _decide_faces(report, works, ctx)
    images = [(w.ref, w.result) for w in works]
    ocr_texts = {w.ref.name: w.ocr_text for w in works if w.ocr_text}
    post_ctx = replace(ctx, register=post_register(draft, images, ctx.register, ocr_texts))
    report.findings += full_name_findings(
        draft, images, post_ctx.register, ctx.on, ocr_texts=ocr_texts
    )
    _locate_in_body(report, draft, post_ctx.register)
    return report, works, post_ctx
