"""Cross-check: a pupil's full name anywhere a post carries text, against its images.

Policy: pupils' full names are never used alongside images in which they are present. A name in
the body, an alt text, a file name, a caption inside the photo's metadata or the text written in
the photo itself (a certificate, read by OCR) all travel with the photo. With faces in the post
it cannot be shown that the named pupil is absent, so any full name is an error; without images
it is pupil data (an error unless the register records `name_full`).

Names the register does not know count too when the post's own words say a pupil is meant
("our Year 4 team: …", see `postguard.textnames`): learned once per post (`post_register`), they
are then matched everywhere, file names included. Without images such a name is a warning: it is
only probably a pupil's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from postguard.clauses import CLAUSES
from postguard.consent.register import Register
from postguard.draft import Draft, ImageRef
from postguard.findings import Finding, ImageResult, Location, Severity, TextSpan
from postguard.names import (
    NameHit,
    find_full_names,
    first_name_version,
    initials,
    is_text_name,
    with_text_names,
)

SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")
FIELD_NAMES = {
    "alt": "alt text of ",
    "filename": "file name ",
    "metadata": "metadata of ",
    "ocr": "text inside ",
}


def name_sources(
    draft: Draft,
    images: Iterable[tuple[ImageRef, ImageResult]],
    ocr_texts: Mapping[str, str] | None = None,
) -> list[tuple[str | None, str]]:
    """Every piece of text that travels with the post, as (field, text); None is the body.

    `ocr_texts` maps an image's name (ImageRef.name) to the text OCR read inside it.
    """
    ocr_texts = ocr_texts or {}
    sources: list[tuple[str | None, str]] = [(None, draft.body)]
    for ref, result in images:
        sources.append((f"filename:{ref.name}", ref.path.stem))
        if ref.alt:
            sources.append((f"alt:{ref.name}", ref.alt))
        for item in result.metadata:
            sources += [(f"metadata:{ref.name}:{item.field}", raw) for raw in item.names]
        if ocr_texts.get(ref.name):
            sources.append((f"ocr:{ref.name}", ocr_texts[ref.name]))
    return sources


def post_register(
    draft: Draft,
    images: Iterable[tuple[ImageRef, ImageResult]],
    register: Register,
    ocr_texts: Mapping[str, str] | None = None,
) -> Register:
    """The register plus the probable pupils this post names by cues (names.with_text_names).

    File names carry no cues ("tom_smith_1.jpg"), so they are not learned from; a name learned
    from the body is still found in them. Reports and safe copies of this post must be masked
    with this register, not the bare one.
    """
    texts = [
        text
        for source, text in name_sources(draft, images, ocr_texts)
        if not (source or "").startswith("filename:")
    ]
    return with_text_names(register, texts)


def full_name_findings(
    draft: Draft,
    images: list[tuple[ImageRef, ImageResult]],
    register: Register,
    on: date,
    *,
    ocr_texts: Mapping[str, str] | None = None,
) -> list[Finding]:
    """One finding per full name per place it sits (see the module doc for the decision)."""
    with_faces = any(result.faces for _, result in images)
    register = post_register(draft, images, register, ocr_texts)
    findings = []
    for source, text in name_sources(draft, images, ocr_texts):
        hits = find_full_names(text, register, ocr=(source or "").startswith("ocr:"))
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
            elif is_text_name(hit.pupil_id):
                category, severity = "pupil_data", Severity.WARNING
                why = (
                    "Probably a pupil's full name: the post says the people named are pupils "
                    "(year group, class, team, age), and the register does not know them, so no "
                    "name_full consent is on record."
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
    who = (
        f"probably a pupil's full name, {initials(pupil)} (not in the register),"
        if is_text_name(pupil.pupil_id)
        else f"full name of pupil {initials(pupil)} ({pupil.pupil_id})"
    )
    return Finding(
        rule=f"names.{category}",
        category=category,
        severity=severity,
        message=f"{who} in the {_where(source)}",
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
