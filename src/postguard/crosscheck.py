"""Cross-check: a pupil's full name anywhere a post carries text, against its images.

Policy: pupils' full names are never used alongside images in which they are present. A name in
the body, an alt text, a file name or a caption inside the photo's metadata all travel with the
photo. With faces in the post it cannot be shown that the named pupil is absent, so any full name
is an error; without images it is pupil data (an error unless the register records `name_full`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from postguard.clauses import CLAUSES
from postguard.consent.register import Register
from postguard.draft import Draft, ImageRef
from postguard.findings import Finding, ImageResult, Location, Severity, TextSpan
from postguard.names import NameHit, find_full_names, first_name_version, initials

SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")
FIELD_NAMES = {"alt": "alt text of ", "filename": "file name ", "metadata": "metadata of "}


def name_sources(
    draft: Draft, images: Iterable[tuple[ImageRef, ImageResult]]
) -> list[tuple[str | None, str]]:
    """Every piece of text that travels with the post, as (field, text); None is the body."""
    sources: list[tuple[str | None, str]] = [(None, draft.body)]
    for ref, result in images:
        sources.append((f"filename:{ref.name}", ref.path.stem))
        if ref.alt:
            sources.append((f"alt:{ref.name}", ref.alt))
        for item in result.metadata:
            sources += [(f"metadata:{ref.name}:{item.field}", raw) for raw in item.names]
    return sources


def full_name_findings(
    draft: Draft,
    images: list[tuple[ImageRef, ImageResult]],
    register: Register,
    on: date,
) -> list[Finding]:
    with_faces = any(result.faces for _, result in images)
    findings = []
    for source, text in name_sources(draft, images):
        hits = find_full_names(text, register)
        for hit in hits:
            if images:
                category, severity = "full_name_with_image", Severity.ERROR
                why = (
                    "The post carries photos with faces: it cannot be shown that the named "
                    "pupil is absent."
                    if with_faces
                    else "The post carries images; a named pupil must not be identifiable "
                    "next to them."
                )
            else:
                category = "pupil_data"
                full_ok = register.consent(hit.pupil_id, "name_full", on).granted
                severity = Severity.WARNING if full_ok else Severity.ERROR
                why = (
                    "The register records name_full consent for this pupil."
                    if full_ok
                    else "The register has no name_full consent for this pupil."
                )
            findings.append(_finding(source, text, hit, hits, register, category, severity, why))
    return findings


def _finding(
    source: str | None,
    text: str,
    hit: NameHit,
    hits: list[NameHit],
    register: Register,
    category: str,
    severity: Severity,
    why: str,
) -> Finding:
    pupil = register.pupils[hit.pupil_id]
    suggestion = None
    if source is None:
        fixed = first_name_version(text, hits, register)
        suggestion = "use the first name only: " + _sentence(fixed, hit)
    return Finding(
        rule=f"names.{category}",
        category=category,
        severity=severity,
        message=f"full name of pupil {initials(pupil)} ({pupil.pupil_id}) in the {_where(source)}",
        clause=CLAUSES[category],
        location=Location(text=TextSpan(hit.start, hit.end, initials(pupil)), field=source),
        explanation=why,
        suggestion=suggestion,
    )


def _where(source: str | None) -> str:
    if source is None:
        return "post text"
    kind, _, rest = source.partition(":")
    return FIELD_NAMES.get(kind, "") + rest.split(":")[0]


def _sentence(fixed_text: str, hit: NameHit) -> str:
    """The sentence around the (now first-name) hit, on one line, for a readable suggestion."""
    starts = [m.end() for m in SENTENCE_END.finditer(fixed_text, 0, hit.start)]
    end = SENTENCE_END.search(fixed_text, hit.start)
    sentence = fixed_text[starts[-1] if starts else 0 : end.end() if end else len(fixed_text)]
    return " ".join(sentence.split())
