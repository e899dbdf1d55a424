"""The consent decision for every face in a photo, and the findings that report it.

Matching only ever says *who* a face might be; whether it may be published is the register's
answer for that pupil, that purpose and that day. Everything uncertain ends as a redaction:
a face too small to encode, an ambiguous match, or nobody at all has no consent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from postguard.clauses import CLAUSES
from postguard.config import FaceSettings
from postguard.consent.register import Register
from postguard.consent.store import StoreState, read_state
from postguard.consent.wording import plural, pupil_list, stale_reasons
from postguard.findings import FaceDecision, Finding, Location, Severity
from postguard.images.faces import DetectedFace

if TYPE_CHECKING:
    from postguard.consent.match import FaceMatcher


def build_matcher(
    register: Register, settings: FaceSettings
) -> tuple[FaceMatcher | None, list[Finding]]:
    """A matcher over the encodings `postguard register enrol` stored, plus register warnings.

    Nothing is encoded here. Falling back to encoding un-enrolled photos in memory would make
    every check pay seconds per photo and hide a store that has fallen behind the register;
    instead a pupil who is not enrolled matches nobody, so their face is redacted (the safe
    error), and a warning says which command brings the store up to date. Only entries for
    pupils with biometric consent today and for their current photos are used.
    """
    from postguard.consent.match import FaceMatcher

    state = read_state(register, settings)
    findings = register_findings(register.directory, state)
    references: dict[str, list[np.ndarray]] = {}
    for entry in state.usable:
        references.setdefault(entry.pupil_id, []).append(entry.encoding)
    return (FaceMatcher(references, settings) if references else None), findings


def register_findings(directory: Path, state: StoreState) -> list[Finding]:
    """Warnings when the encodings store is behind the register (`consent_register`)."""
    common = {
        "category": "consent_register",
        "severity": Severity.WARNING,
        "clause": CLAUSES["consent_register"],
        "location": Location(field=f"register:{directory}"),
        "suggestion": f"run `postguard register enrol --register {directory}`, then check again",
    }
    findings = []
    if state.missing:
        pupils = state.unenrolled_pupils
        if pupils:
            verb = "has" if len(pupils) == 1 else "have"
            message = (
                f"{plural(len(pupils), 'pupil')} with biometric consent {verb} no stored "
                "encodings: run `postguard register enrol`; their faces will be redacted"
            )
        else:
            verb = "has" if len(state.missing) == 1 else "have"
            message = (
                f"{plural(len(state.missing), 'reference photo')} {verb} no stored encoding: "
                "run `postguard register enrol`"
            )
        findings.append(
            Finding(
                rule="register.not_enrolled",
                message=message,
                explanation="Faces are matched only against encodings stored by `postguard "
                "register enrol`, never computed during a check, and a face that matches nobody "
                "has no consent. Reference photos without a stored encoding belong to "
                f"{pupil_list(p.pupil_id for p in state.missing)}.",
                **common,
            )
        )
    if state.stale:
        verb = "is" if len(state.stale) == 1 else "are"
        findings.append(
            Finding(
                rule="register.stale_encodings",
                message=f"{plural(len(state.stale), 'stored encoding')} {verb} out of date and "
                "not used: run `postguard register enrol` to remove them",
                explanation="Face encodings are biometric data, kept only for pupils with "
                "biometric consent today, for their current reference photos and the current "
                f"face model ({stale_reasons(state.stale)}).",
                **common,
            )
        )
    return findings


def decide_faces(
    pixels: np.ndarray,
    faces: list[DetectedFace],
    matcher: FaceMatcher | None,
    register: Register,
    purpose: str,
    on: date,
    settings: FaceSettings,
) -> list[FaceDecision]:
    """Consented (matched, with consent for `purpose` on `on`), redact, or blocked."""
    from postguard.consent.match import encode_face

    decisions: list[FaceDecision] = []
    for face in faces:
        base = {"box": face.box, "score": face.score, "detector": "+".join(face.detectors)}
        if matcher is None:
            decisions.append(
                FaceDecision(decision="redact", reason="no pupils enrolled for matching", **base)
            )
            continue
        match = matcher.match(encode_face(pixels, face.box, settings, face.align_box))
        if match.pupil_id is None:
            reason = f"{match.reason}; a face that matches nobody has no consent"
            decisions.append(
                FaceDecision(decision="redact", reason=reason, distance=match.distance, **base)
            )
            continue
        consent = register.consent(match.pupil_id, purpose, on)
        if register.pupils[match.pupil_id].do_not_photograph:
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


def face_findings(path: str, decisions: list[FaceDecision], purpose: str) -> list[Finding]:
    """An error per face that must not appear as it is, an info line per consented face."""
    findings = []
    for face in decisions:
        common = {
            "category": "face_no_consent",
            "clause": CLAUSES["face_no_consent"],
            "location": Location(image=path, box=face.box),
        }
        if face.decision == "consented":
            findings.append(
                Finding(
                    rule="faces.consented",
                    severity=Severity.INFO,
                    message=f"face matched {face.pupil_id}, who has {purpose} consent",
                    explanation=face.reason,
                    **common,
                )
            )
        elif face.decision == "blocked":
            findings.append(
                Finding(
                    rule="faces.do_not_photograph",
                    severity=Severity.ERROR,
                    message=f"recognised {face.pupil_id}, who must not be photographed",
                    explanation="A pupil marked do-not-photograph may not appear even blurred: "
                    "the setting and other people can still identify them.",
                    suggestion="remove this photo from the post",
                    **common,
                )
            )
        else:
            findings.append(
                Finding(
                    rule="faces.no_consent",
                    severity=Severity.ERROR,
                    message=f"face without {purpose} consent",
                    explanation=face.reason,
                    suggestion="use the copy written by --out, where this face is redacted",
                    fixable=True,
                    **common,
                )
            )
    return findings
