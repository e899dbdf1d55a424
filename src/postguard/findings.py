"""What a check reports: findings, per-image results, the verdict.

Every check in postguard speaks this vocabulary, so that the renderers (text, JSON, SARIF) and
the verdict logic never need to know which check produced a finding. Field names here are the
JSON contract of `postguard check --format json`; change them only with the README and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CATEGORIES: tuple[str, ...] = (
    "political",
    "personal_view",
    "non_neutral",
    "offensive",
    "attack",
    "pupil_data",
    "full_name_with_image",
    "face_no_consent",
    "consent_register",
    "location_metadata",
    "identifying_metadata",
    "unreadable_input",
)


class Severity(StrEnum):
    """How much a finding matters: errors block, warnings inform, info records a decision."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True)
class TextSpan:
    """Character offsets into one piece of text (post body, alt text, file name, metadata)."""

    start: int
    end: int
    snippet: str
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "snippet": self.snippet}
        if self.line is not None:
            out.update(line=self.line, column=self.column)
        return out


@dataclass(frozen=True)
class Location:
    """Where a finding is: a span of the post text, or a region of an image.

    `field` names where in the draft a text span sits when it is not the post body
    (``alt``, ``filename``, ``metadata:XMP:PersonInImage``, ``ocr``); ``None`` means the body.
    """

    text: TextSpan | None = None
    image: str | None = None
    box: tuple[int, int, int, int] | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.text is not None:
            out["text"] = self.text.to_json()
        if self.image is not None:
            out["image"] = self.image
        if self.box is not None:
            out["box"] = list(self.box)
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class Finding:
    """One reason a post may not go out as it is.

    `fixable` marks findings that the sanitised copies written by ``--out`` remove (an
    unconsented face is redacted, GPS is stripped); `fixed` is set once those copies have been
    written and verified, and a fixed finding no longer blocks.
    """

    rule: str
    category: str
    severity: Severity
    message: str
    clause: str
    location: Location
    explanation: str = ""
    suggestion: str | None = None
    fixable: bool = False
    fixed: bool = False
    context: str | None = None

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.ERROR and not self.fixed

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity.value,
            "message": self.message,
            "clause": self.clause,
            "location": self.location.to_json(),
            "explanation": self.explanation,
            "suggestion": self.suggestion,
            "fixable": self.fixable,
            "fixed": self.fixed,
            "context": self.context,
        }


@dataclass
class FaceDecision:
    """The consent decision for one detected face.

    decision: ``consented`` (matched a pupil with consent for this purpose), ``redact`` (no
    consent, or nobody matched: the face is made unrecognisable in the output) or ``blocked``
    (the post may not use this image at all, e.g. a recognised do-not-photograph pupil).
    """

    box: tuple[int, int, int, int]
    decision: str
    reason: str
    pupil_id: str | None = None
    distance: float | None = None
    score: float | None = None
    detector: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "decision": self.decision,
            "pupil_id": self.pupil_id,
            "distance": None if self.distance is None else round(self.distance, 3),
            "reason": self.reason,
        }


@dataclass
class MetadataItem:
    """One piece of metadata found in an image file, as it may be shown to a person.

    `value` is already made safe to print (names as initials, coordinates rounded); `names`
    holds the raw person names found, which only the full-name check sees and never prints.
    """

    field: str
    value: str
    kind: str  # "location" | "identifying" | "technical"
    names: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "kind": self.kind}


@dataclass
class ImageResult:
    path: str
    faces: list[FaceDecision] = field(default_factory=list)
    metadata: list[MetadataItem] = field(default_factory=list)
    output: str | None = None
    size: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "faces": [f.to_json() for f in self.faces],
            "metadata": [m.to_json() for m in self.metadata],
            "output": self.output,
        }


@dataclass
class Report:
    """Everything `check` learned about one draft."""

    draft: str
    channel: str
    text_path: str | None = None
    findings: list[Finding] = field(default_factory=list)
    images: list[ImageResult] = field(default_factory=list)
    output_dir: str | None = None
    outputs_withheld: bool = False

    @property
    def verdict(self) -> Verdict:
        if any(f.blocks for f in self.findings):
            return Verdict.BLOCK
        if any(f.severity is Severity.WARNING and not f.fixed for f in self.findings):
            return Verdict.WARN
        return Verdict.PASS

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict is Verdict.BLOCK else 0

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.fixed, f.severity.rank, f.category, f.rule))

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "channel": self.channel,
            "verdict": self.verdict.value,
            "findings": [f.to_json() for f in self.sorted_findings()],
            "images": [i.to_json() for i in self.images],
            "output_dir": self.output_dir,
            "outputs_withheld": self.outputs_withheld,
        }
