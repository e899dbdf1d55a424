"""Find register pupils' names in any piece of text a post carries.

Policy: a pupil's full name is never used alongside an image in which they may be present. Names
turn up in the body, the alt text, file names (`amelia_jones_1.jpg`), captions in metadata and on
certificates, spelt with or without diacritics, curly apostrophes, a possessive, or split across a
line break, so matching works on a folded copy of the text and maps every hit back to exact
character offsets in the original.

Pupils the register does not know are found by cues in the text (`postguard.textnames`);
`with_text_names` adds them to a per-post copy of the register as pupils without any consent,
so that every function here (matching in file names, first-name fixes, masking reports) treats
them exactly like register pupils.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from postguard.consent.register import Pupil, Register
from postguard.findings import Report

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
STAFF_TITLE = re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr|sir|dame|prof|rev)\.?\s+$")
SEPARATORS = re.compile(r"[_\-.+]+")
TEXT_NAME_PREFIX = "unregistered-"  # pupil_id of a name learned from the text, not the register
# Characters Tesseract confuses in names ("Chloé" read as "Chioé", "0liver"): in text read by
# OCR, and in the names matched against it, each group becomes one character.
OCR_CONFUSABLES = str.maketrans({"i": "l", "1": "l", "|": "l", "!": "l", "0": "o"})


@dataclass(frozen=True)
class NameHit:
    """A pupil's full name found in a text: where, and who."""

    pupil_id: str
    start: int
    end: int


def fold(text: str) -> tuple[str, list[int]]:
    """Lower-case, strip diacritics and unify apostrophes, keeping a map to original offsets.

    Returns the folded text and, for every folded character, the index of the original
    character it came from (plus one final entry for the end of the text).
    """
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKD", char.translate(APOSTROPHES)):
            if unicodedata.combining(piece):
                continue
            for lowered in piece.lower():
                out.append(lowered)
                origin.append(index)
    origin.append(len(text))
    return "".join(out), origin


def _name_regex(part: str, ocr: bool) -> str:
    """A name part as a pattern: hyphens and spaces inside double-barrelled names interchange,
    apostrophes may be left out."""
    folded, _ = fold(part.strip())
    if ocr:
        folded = folded.translate(OCR_CONFUSABLES)
    # file names drop apostrophes ("jack_obrien.jpg"): they are optional in a match
    words = [re.escape(w).replace("'", "'?") for w in re.split(r"[\s\-]+", folded) if w]
    return r"[\s\-]+".join(words)


@lru_cache(maxsize=8192)  # bounded: names learned from posts come and go in a long audit
def _pupil_pattern(pupil: Pupil, ocr: bool = False) -> re.Pattern[str]:
    forenames = "|".join(_name_regex(n, ocr) for n in pupil.forenames)
    surnames = "|".join(_name_regex(n, ocr) for n in pupil.surnames)
    # forename, optional middle names/initials, surname, optional possessive; not the tail of
    # a longer word ("O'Maya"), but an opening quote before the name is no protection
    return re.compile(
        rf"(?<!\w)(?<!\w')(?:{forenames})(?:\s+[a-z]\.?|\s+[a-z]+)?\s+(?:{surnames})(?:'s|')?(?![\w])"
    )


def find_full_names(text: str, register: Register, *, ocr: bool = False) -> list[NameHit]:
    """Every register pupil's full name in `text`, excluding adults addressed by title.

    Only full names count: "Amelia" or "Amelia J." is what the policy allows. `ocr` says the
    text was read from an image, so letters Tesseract confuses match each other.
    """
    folded, origin = fold(SEPARATORS.sub(lambda m: " " * len(m.group()), text))
    if ocr:
        folded = folded.translate(OCR_CONFUSABLES)
    hits: list[NameHit] = []
    for pupil in register.pupils.values():
        for match in _pupil_pattern(pupil, ocr).finditer(folded):
            if STAFF_TITLE.search(folded[max(0, match.start() - 8) : match.start()]):
                continue
            hits.append(NameHit(pupil.pupil_id, origin[match.start()], origin[match.end()]))
    return sorted(hits, key=lambda h: h.start)


def first_name_version(text: str, hits: list[NameHit], register: Register) -> str:
    """The same text with each full name cut to the pupil's first name: the suggested fix."""
    pieces: list[str] = []
    cursor = 0
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start < cursor:
            continue
        pieces.append(text[cursor : hit.start])
        matched = text[hit.start : hit.end]
        if matched.endswith(("'s", "\u2019s")):
            tail = "'s"
        else:  # a closing quote after an opening one stays; a bare one goes, as before
            quoted = text[hit.start - 1 : hit.start] in ("'", "\u2018")
            tail = matched[-1] if quoted and matched.endswith(("'", "\u2019")) else ""
        pieces.append(register.pupils[hit.pupil_id].display_forename + tail)
        cursor = hit.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def initials(pupil: Pupil) -> str:
    """How reports refer to a named pupil: never the full name, which no output may contain."""
    return f"{pupil.display_forename[:1]}. {(pupil.preferred_surname or pupil.legal_surname)[:1]}."


def is_text_name(pupil_id: str) -> bool:
    """Whether a pupil id stands for a name learned from the post rather than the register."""
    return pupil_id.startswith(TEXT_NAME_PREFIX)


def with_text_names(register: Register, texts: Iterable[str]) -> Register:
    """A copy of `register` that also holds the probable pupils named by cues in `texts`.

    Each learned name becomes a pupil with no consent events (so no consent of any kind), whose
    id starts with TEXT_NAME_PREFIX. The register itself is not changed: what one post names
    must not leak into the next post's checks.
    """
    from postguard.textnames import find_unknown_pupil_names  # textnames imports fold from here

    learned: dict[str, Pupil] = {}
    known = {
        _key(p.display_forename, p.preferred_surname or p.legal_surname)
        for p in register.pupils.values()
    }
    for text in texts:
        register_hits = find_full_names(text, register)
        for found in find_unknown_pupil_names(text):
            if any(h.start < found.end and found.start < h.end for h in register_hits):
                continue
            words = text[found.start : found.end].split()
            forename, surname = words[0], " ".join(words[1:])
            key = _key(forename, surname)
            if key in known:
                continue
            known.add(key)
            pupil_id = f"{TEXT_NAME_PREFIX}{len(learned) + 1}"
            learned[pupil_id] = Pupil(
                pupil_id=pupil_id,
                legal_forename=forename,
                legal_surname=surname,
                preferred_forename="",
                preferred_surname="",
                year_group="",
                on_roll=True,
                do_not_photograph=False,
            )
    if not learned:
        return register
    return replace(register, pupils={**register.pupils, **learned})


def _key(forename: str, surname: str) -> str:
    return " ".join(fold(f"{forename} {surname}".replace("-", " "))[0].split())


def without_full_names(text: str, register: Register) -> str:
    """`text` with every full name cut to a first name: register pupils, names learned from
    the post (when `register` comes from `with_text_names`), and names cued in `text` itself."""
    register = with_text_names(register, [text])
    return first_name_version(text, find_full_names(text, register), register)


def mask_report(report: Report, register: Register) -> None:
    """Cut every pupil's full name in a report to a first name, wherever it came from.

    Reports are printed, saved and attached to audit logs, so they fall under the rule that no
    output of postguard holds a pupil's full name: file and folder names, matched words quoted
    in explanations and snippets are all masked. Offsets still point at the original text.
    """

    def mask(value: str | None) -> str | None:
        return None if value is None else without_full_names(value, register)

    report.draft = without_full_names(report.draft, register)
    report.text_path = mask(report.text_path)
    for finding in report.findings:
        finding.message = without_full_names(finding.message, register)
        finding.explanation = without_full_names(finding.explanation, register)
        finding.suggestion = mask(finding.suggestion)
        finding.context = mask(finding.context)
        loc = finding.location
        text = loc.text and replace(
            loc.text, snippet=without_full_names(loc.text.snippet, register)
        )
        finding.location = replace(loc, text=text, image=mask(loc.image), field=mask(loc.field))
    for image in report.images:
        image.path = without_full_names(image.path, register)
