"""The consent decision for every face in a photo, and the findings that report it.

Matching only ever says *who* a face might be; whether it may be published is the register's
answer for that pupil, that purpose and that day. Everything uncertain ends as a redaction:
a face too small to encode, an ambiguous match, or nobody at all has no consent.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from postguard.clauses import CLAUSES
from postguard.config import FaceSettings
from postguard.consent.register import Register
from postguard.errors import InputError
from postguard.findings import FaceDecision, Finding, Location, Severity
from postguard.images.decode import ImageDecodeError, decode_image
from postguard.images.faces import DetectedFace

if TYPE_CHECKING:
    from postguard.consent.match import FaceMatcher


def build_matcher(register: Register, settings: FaceSettings) -> FaceMatcher | None:
    """Enrol the reference photos of pupils with biometric consent, in memory only.

    A reference photo that cannot be used makes the register invalid (an input error): matching
    against a partial set of pupils would silently treat the missing ones as strangers.
    """
    if not register.references:
        return None
    from postguard.consent.match import FaceMatcher, encode_reference

    references: dict[str, list[np.ndarray]] = {}
    for pupil_id, photos in register.references.items():
        for photo in photos:
            try:
                encoding, problem = encode_reference(decode_image(photo).pixels, settings)
            except ImageDecodeError as exc:
                raise InputError(photo, f"unreadable reference photo: {exc}") from None
            if encoding is None:
                raise InputError(photo, problem)
            references.setdefault(pupil_id, []).append(encoding)
    return FaceMatcher(references, settings)


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
        match = matcher.match(encode_face(pixels, face.box, settings))
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
