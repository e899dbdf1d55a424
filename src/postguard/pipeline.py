"""Run every check on one draft and decide, failing closed.

The order follows DESIGN.md §3: text rules, then each image (decode, metadata, faces, consent),
then the cross-check of pupils' full names against everything the post carries, then (with
`--out`) the safe copies. Any exception inside a check becomes a blocking finding that names the
check and the file: a check that did not run must never look like a check that passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import yaml

from postguard.atomic import write_text_atomic
from postguard.clauses import CLAUSES
from postguard.config import Config
from postguard.consent.register import Register
from postguard.draft import VIDEO_SUFFIXES, Draft, ImageRef
from postguard.errors import InputError
from postguard.findings import (
    FaceDecision,
    Finding,
    ImageResult,
    Location,
    Report,
    Severity,
    TextSpan,
)
from postguard.images.decode import DecodedImage, ImageDecodeError, decode_image
from postguard.images.faces import DetectedFace, detect_faces
from postguard.images.metadata import metadata_findings, scan_metadata, write_clean
from postguard.images.redact import redact, verify_redaction
from postguard.names import NameHit, find_full_names, first_name_version, initials
from postguard.text.rules import check_text

if TYPE_CHECKING:
    from postguard.consent.match import FaceMatcher

T = TypeVar("T")
NAME_CATEGORIES = frozenset({"full_name_with_image", "pupil_data"})
SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")


class CheckFailed(Exception):
    """A check could not complete; already reported as a blocking finding."""


@dataclass
class _ImageWork:
    """What the image checks learned, kept for writing the safe copy."""

    ref: ImageRef
    result: ImageResult
    decoded: DecodedImage | None = None
    detected: list[DetectedFace] = field(default_factory=list)
    writable: bool = True


@dataclass
class CheckContext:
    """Everything one check run needs, resolved once by the caller."""

    config: Config
    register: Register
    channel: str
    on: date


def _failure(check: str, where: str, problem: str, fix: str | None = None) -> Finding:
    return Finding(
        rule=f"input.{check}",
        category="unreadable_input",
        severity=Severity.ERROR,
        message=f"{check} check could not run on {where}: {problem}",
        clause=CLAUSES["unreadable_input"],
        location=Location(image=where) if check != "text" else Location(field=where),
        explanation="postguard fails closed: what could not be checked cannot be posted.",
        suggestion=fix,
    )


def _guarded(report: Report, check: str, where: str, run: Callable[[], T]) -> T:
    """Run one check; any error becomes a blocking finding naming the check and the file."""
    try:
        return run()
    except InputError:
        raise
    except ImageDecodeError as exc:
        report.findings.append(_failure(check, where, str(exc), "re-export the photo as JPEG"))
    except Exception as exc:  # fail closed on anything a check raises
        detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        report.findings.append(_failure(check, where, detail[:200]))
    raise CheckFailed(check)


def _check_text(report: Report, draft: Draft, config: Config) -> None:
    try:
        report.findings += _guarded(
            report, "text", "post text", lambda: check_text(draft.body, config)
        )
        for ref in draft.images:
            if ref.alt:
                report.findings += _guarded(
                    report,
                    "text",
                    f"alt text of {ref.name}",
                    lambda ref=ref: check_text(ref.alt or "", config, field=f"alt:{ref.name}"),
                )
    except CheckFailed:
        pass


def _face_decisions(
    work: _ImageWork, ctx: CheckContext, matcher: FaceMatcher | None
) -> list[FaceDecision]:
    """Consent decision for every detected face: matched and consented, or redacted, or blocked."""
    from postguard.consent.match import encode_face

    assert work.decoded is not None
    settings = ctx.config.faces
    decisions: list[FaceDecision] = []
    for face in work.detected:
        base = {"box": face.box, "score": face.score, "detector": "+".join(face.detectors)}
        if matcher is None:
            decisions.append(
                FaceDecision(decision="redact", reason="no pupils enrolled for matching", **base)
            )
            continue
        match = matcher.match(encode_face(work.decoded.pixels, face.box, settings))
        if match.pupil_id is None:
            decisions.append(
                FaceDecision(
                    decision="redact", reason=match.reason, distance=match.distance, **base
                )
            )
            continue
        pupil = ctx.register.pupils[match.pupil_id]
        consent = ctx.register.consent(match.pupil_id, ctx.channel, ctx.on)
        if pupil.do_not_photograph:
            decision, reason = "blocked", f"recognised {match.pupil_id}, marked do-not-photograph"
        elif consent.granted:
            decision, reason = "consented", consent.reason
        else:
            decision, reason = "redact", consent.reason
        decisions.append(
            FaceDecision(
                decision=decision,
                reason=reason,
                pupil_id=match.pupil_id,
                distance=match.distance,
                **base,
            )
        )
    return decisions


def _face_findings(path: str, decisions: list[FaceDecision], channel: str) -> list[Finding]:
    findings = []
    for face in decisions:
        where = Location(image=path, box=face.box)
        if face.decision == "consented":
            findings.append(
                Finding(
                    rule="faces.consented",
                    category="face_no_consent",
                    severity=Severity.INFO,
                    message=f"face matched {face.pupil_id}, who has {channel} consent",
                    clause=CLAUSES["face_no_consent"],
                    location=where,
                    explanation=face.reason,
                )
            )
        elif face.decision == "blocked":
            findings.append(
                Finding(
                    rule="faces.do_not_photograph",
                    category="face_no_consent",
                    severity=Severity.ERROR,
                    message=f"recognised {face.pupil_id}, who must not be photographed",
                    clause=CLAUSES["face_no_consent"],
                    location=where,
                    explanation="A pupil marked do-not-photograph may not appear even blurred: "
                    "the setting and other people can still identify them.",
                    suggestion="remove this photo from the post",
                )
            )
        else:
            findings.append(
                Finding(
                    rule="faces.no_consent",
                    category="face_no_consent",
                    severity=Severity.ERROR,
                    message=f"face without {channel} consent",
                    clause=CLAUSES["face_no_consent"],
                    location=where,
                    explanation=f"{face.reason}. A face that matches nobody has no consent.",
                    suggestion="use the copy written by --out, where this face is redacted",
                    fixable=True,
                )
            )
    return findings


def _scan_image(report: Report, ref: ImageRef, ctx: CheckContext) -> _ImageWork:
    """Decode, read metadata and find faces; failures become blocking findings."""
    name = str(ref.path)
    work = _ImageWork(ref, ImageResult(path=name))
    report.images.append(work.result)
    try:
        if ref.path.suffix.lower() in VIDEO_SUFFIXES:
            raise ImageDecodeError("video: postguard does not process video; post stills instead")
        decoded = _guarded(report, "decode", name, lambda: decode_image(ref.path))
        work.decoded = decoded
        work.result.size = (decoded.pixels.shape[1], decoded.pixels.shape[0])
        work.result.metadata = _guarded(report, "metadata", name, lambda: scan_metadata(ref.path))
        report.findings += metadata_findings(name, work.result.metadata)
        work.detected = _guarded(
            report, "faces", name, lambda: detect_faces(decoded.pixels, ctx.config.faces)
        )
    except ImageDecodeError as exc:
        report.findings.append(_failure("decode", name, str(exc)))
        work.writable = False
    except CheckFailed:
        work.writable = False
    return work


def _decide_faces(report: Report, works: list[_ImageWork], ctx: CheckContext) -> None:
    """Match faces against enrolled pupils only when some image has faces (enrolling is slow)."""
    if not any(w.detected for w in works):
        return
    try:
        matcher = _guarded(
            report, "enrolment", str(ctx.register.directory), lambda: build_matcher(ctx)
        )
    except CheckFailed:
        for work in works:
            work.writable = False
        return
    for work in works:
        if not work.detected:
            continue
        try:
            work.result.faces = _guarded(
                report,
                "consent",
                str(work.ref.path),
                lambda w=work: _face_decisions(w, ctx, matcher),
            )
        except CheckFailed:
            work.writable = False
            continue
        report.findings += _face_findings(str(work.ref.path), work.result.faces, ctx.channel)


def _name_sources(draft: Draft, works: list[_ImageWork]) -> list[tuple[str | None, str]]:
    """Every piece of text that travels with the post: (field, text)."""
    sources: list[tuple[str | None, str]] = [(None, draft.body)]
    for work in works:
        ref = work.ref
        sources.append((f"filename:{ref.name}", ref.path.stem))
        if ref.alt:
            sources.append((f"alt:{ref.name}", ref.alt))
        for item in work.result.metadata:
            sources += [(f"metadata:{ref.name}:{item.field}", raw) for raw in item.names]
    return sources


def _check_names(report: Report, draft: Draft, works: list[_ImageWork], ctx: CheckContext) -> None:
    """Full names next to images are errors; without images they are pupil data."""
    with_faces = any(w.result.faces for w in works)
    with_images = bool(works)
    for source, text in _name_sources(draft, works):
        hits = find_full_names(text, ctx.register)
        for hit in hits:
            report.findings.append(
                _name_finding(source, text, hit, hits, ctx, with_faces, with_images)
            )


def _name_finding(
    source: str | None,
    text: str,
    hit: NameHit,
    hits: list[NameHit],
    ctx: CheckContext,
    with_faces: bool,
    with_images: bool,
) -> Finding:
    pupil = ctx.register.pupils[hit.pupil_id]
    who = f"{initials(pupil)} ({pupil.pupil_id})"
    span = TextSpan(hit.start, hit.end, initials(pupil))
    suggestion = None
    if source is None:
        suggestion = "use the first name only: " + _sentence(
            first_name_version(text, hits, ctx.register), hit
        )
    if with_images:
        severity = Severity.ERROR
        category = "full_name_with_image"
        why = (
            "The post carries photos with faces: it cannot be shown that the named pupil is absent."
            if with_faces
            else "The post carries images; a named pupil must not be identifiable next to them."
        )
    else:
        category = "pupil_data"
        full_ok = ctx.register.consent(hit.pupil_id, "name_full", ctx.on).granted
        severity = Severity.WARNING if full_ok else Severity.ERROR
        why = (
            "The register records name_full consent."
            if full_ok
            else ("The register has no name_full consent for this pupil.")
        )
    return Finding(
        rule=f"names.{category}",
        category=category,
        severity=severity,
        message=f"full name of pupil {who} in the {_where(source)}",
        clause=CLAUSES[category],
        location=Location(text=span, field=source),
        explanation=why,
        suggestion=suggestion,
    )


def _where(source: str | None) -> str:
    if source is None:
        return "post text"
    kind, _, rest = source.partition(":")
    return {"alt": "alt text of ", "filename": "file name ", "metadata": "metadata of "}.get(
        kind, ""
    ) + rest.split(":")[0]


def _sentence(fixed_text: str, hit: NameHit) -> str:
    """The sentence around the (now first-name) hit, on one line, for a readable suggestion."""
    starts = [m.end() for m in SENTENCE_END.finditer(fixed_text, 0, hit.start)]
    end = SENTENCE_END.search(fixed_text, hit.start)
    sentence = fixed_text[starts[-1] if starts else 0 : end.end() if end else len(fixed_text)]
    return " ".join(sentence.split())


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


def build_matcher(ctx: CheckContext) -> FaceMatcher | None:
    """Enrol the reference photos of pupils with biometric consent (in memory only)."""
    register, config = ctx.register, ctx.config
    if not register.references:
        return None
    from postguard.consent.match import FaceMatcher, encode_reference

    references: dict[str, list[np.ndarray]] = {}
    for pupil_id, photos in register.references.items():
        for photo in photos:
            try:
                encoding, problem = encode_reference(decode_image(photo).pixels, config.faces)
            except ImageDecodeError as exc:
                raise InputError(photo, f"unreadable reference photo: {exc}") from None
            if encoding is None:
                raise InputError(photo, problem)
            references.setdefault(pupil_id, []).append(encoding)
    return FaceMatcher(references, config.faces)


def check_draft(draft: Draft, ctx: CheckContext) -> tuple[Report, list[_ImageWork]]:
    """All checks on one draft; the report says what must change before it may be posted."""
    report = Report(
        draft=str(draft.source),
        channel=ctx.channel,
        text_path=str(draft.text_path) if draft.text_path else None,
    )
    _check_text(report, draft, ctx.config)
    report.findings += _unchecked_findings(draft)
    works = [_scan_image(report, ref, ctx) for ref in draft.images]
    _decide_faces(report, works, ctx)
    _check_names(report, draft, works, ctx)
    _locate_in_body(report, draft, ctx.register)
    return report, works


def mask_names(report: Report, register: Register) -> None:
    """Cut every pupil's full name in the report to a first name, wherever it came from.

    Reports are printed, saved and attached to audit logs, so they fall under the rule that no
    output of postguard holds a pupil's full name: file and folder names, matched words quoted
    in explanations and snippets are all masked. Offsets still point at the original text.
    """

    def mask(value: str | None) -> str | None:
        return None if value is None else _without_full_names(value, register)

    report.draft = mask(report.draft) or report.draft
    report.text_path = mask(report.text_path)
    for finding in report.findings:
        finding.message = mask(finding.message) or ""
        finding.explanation = mask(finding.explanation) or ""
        finding.suggestion = mask(finding.suggestion)
        finding.context = mask(finding.context)
        loc = finding.location
        text = loc.text and replace(loc.text, snippet=mask(loc.text.snippet) or "")
        finding.location = replace(loc, text=text, image=mask(loc.image), field=mask(loc.field))
    for image in report.images:
        image.path = mask(image.path) or image.path


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
            f"…{_without_full_names(before, register)} »{words}« "
            f"{_without_full_names(after, register)}…"
        )


# ---------------------------------------------------------------- safe copies (--out)


def check_out_dir(out: Path, draft: Draft) -> None:
    """Refuse an output folder inside the draft: outputs must never mix with originals."""
    resolved, root = out.resolve(), draft.root.resolve()
    if resolved == root or root in resolved.parents:
        raise InputError(out, "output folder must not be inside the draft folder")
    for ref in draft.images:
        if ref.path.resolve().parent == resolved:
            raise InputError(out, "output folder holds an original image")


def _without_full_names(text: str, register: Register) -> str:
    return first_name_version(text, find_full_names(text, register), register)


def write_outputs(
    report: Report, draft: Draft, works: list[_ImageWork], out: Path, ctx: CheckContext
) -> None:
    """Write the safe-to-post copies and mark what they fix as fixed.

    Images are written only when every check on them ran; each copy has the unconsented faces
    redacted (and the redaction verified) and no metadata (verified three ways by write_clean).
    No output may hold a pupil's full name, so file names, alt texts and the post text are
    written with full names cut to first names; the name findings still block until a person
    has reviewed that wording (re-run `check` on the output folder).
    """
    out.mkdir(parents=True, exist_ok=True)
    report.output_dir = str(out)
    written: list[dict[str, str]] = []
    for index, work in enumerate(works):
        if not work.writable or work.decoded is None:
            continue
        if any(f.decision == "blocked" for f in work.result.faces):
            continue
        boxes = [f.box for f in work.result.faces if f.decision == "redact"]
        stem = f"{index + 1:02d}-" + _without_full_names(Path(work.ref.name).stem, ctx.register)
        try:
            path = _guarded(
                report,
                "redact+write",
                str(work.ref.path),
                lambda w=work, b=boxes, n=stem: _write_image(w, b, out, n, ctx),
            )
        except CheckFailed:
            continue
        work.result.output = str(path)
        entry = {"file": path.name}
        if work.ref.alt:
            entry["alt"] = _without_full_names(work.ref.alt, ctx.register)
        written.append(entry)
        for finding in report.findings:
            if finding.fixable and finding.location.image == str(work.ref.path):
                finding.fixed = True
    front = {"channel": ctx.channel, "images": written}
    if draft.date:
        front["date"] = draft.date
    body = _without_full_names(draft.body, ctx.register)
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body
    write_text_atomic(out / "post.md", text)


def _write_image(
    work: _ImageWork,
    boxes: list[tuple[int, int, int, int]],
    out: Path,
    stem: str,
    ctx: CheckContext,
) -> Path:
    """Redact, verify the redaction, then re-encode without metadata (verified by write_clean)."""
    assert work.decoded is not None
    pixels = work.decoded.pixels
    if boxes:
        redacted = redact(pixels, boxes, ctx.config.faces)
        problems = verify_redaction(pixels, redacted, boxes, ctx.config.faces)
        if problems:
            raise RuntimeError("; ".join(problems))
        pixels = redacted
    return write_clean(work.decoded, np.ascontiguousarray(pixels), out, stem)
