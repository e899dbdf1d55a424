"""A pupil's full name is found in all five places a post carries text (issue 6).

Body, alt text, image file name, image metadata and the text inside the photo (a certificate or
badge read by OCR). Every draft here is a real folder with a real post.md and real JPEGs: the
certificates are drawn onto 12 MP photos (tests/renderings.py), the metadata comes from a real
agency photo in ../shared whose XMP PersonInImage names the person shown. The checks run as the
pipeline runs them: decode, metadata scan, OCR, then the cross-check over every source.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytesseract
import pytest

from postguard.consent.register import Register, load_register
from postguard.crosscheck import full_name_findings
from postguard.draft import load_draft
from postguard.findings import Finding, ImageResult, Severity
from postguard.images.decode import decode_image
from postguard.images.metadata import scan_metadata
from postguard.images.ocr import ocr_source
from renderings import certificate, name_badge, photo_with, save_jpeg, text_px_for

REGISTER_NAMES = {
    "P1001": "Amelia Jones",
    "P1002": "Maya Okafor",
    "P1003": "Oliver Brown",
    "P1004": "Zainab Hussain",
    "P1005": "Jack O'Brien",
    "P1006": "Chloé Smith-Jones",
    "P1007": "Harry Patel",
    "P1008": "Sofia Nowak",
}
TILTS = [(0.02, 0), (0.035, 8), (0.05, -8), (0.02, 15), (0.035, -15)]
PLACES = {"body", "alt", "filename", "metadata", "ocr"}
needs_tesseract = pytest.mark.skipif(
    shutil.which(pytesseract.pytesseract.tesseract_cmd) is None,
    reason="Tesseract not installed (make setup installs tesseract-ocr when run as root)",
)


def _draft(folder: Path, body: str, images: dict[str, str | None]) -> Path:
    """A draft folder: post.md listing `images` (file name → alt text) in its front matter."""
    folder.mkdir(parents=True)
    listed = "".join(
        f"  - file: {name}\n" + (f"    alt: {alt}\n" if alt else "") for name, alt in images.items()
    )
    front = f"---\nimages:\n{listed}---\n" if images else ""
    (folder / "post.md").write_text(front + body, encoding="utf-8")
    return folder


def _check_names(folder: Path, register: Register) -> list[Finding]:
    """The name findings for a draft, with every image decoded, scanned and read by OCR."""
    draft = load_draft(folder)
    images, ocr_texts, findings = [], {}, []
    for ref in draft.images:
        result = ImageResult(path=str(ref.path), metadata=scan_metadata(ref.path))
        text, problem = ocr_source(decode_image(ref.path).pixels, str(ref.path))
        if text:
            ocr_texts[ref.name] = text
        if problem:
            findings.append(problem)
        images.append((ref, result))
    return findings + full_name_findings(draft, images, register, date.today(), ocr_texts=ocr_texts)


def _place(finding: Finding) -> str:
    field = finding.location.field
    return "body" if field is None else field.split(":")[0]


@pytest.fixture(scope="module")
def register() -> Register:
    from conftest import REGISTER

    return load_register(REGISTER)


@needs_tesseract
@pytest.mark.parametrize(("index", "pupil"), list(enumerate(REGISTER_NAMES)))
def test_register_name_found_in_body_alt_filename_and_photo(tmp_path, register, index, pupil):
    name = REGISTER_NAMES[pupil]
    fraction, angle = TILTS[index % len(TILTS)]
    file_name = name.lower().replace(" ", "_").replace("'", "") + "_1.jpg"
    folder = _draft(
        tmp_path / "draft",
        f"Star of the Week goes to {name} for a brilliant week!",
        {file_name: f"{name} holding her certificate"},
    )
    save_jpeg(photo_with(certificate(name, text_px_for(fraction)), angle), folder / file_name)
    findings = [f for f in _check_names(folder, register) if f.rule.startswith("names.")]
    assert {_place(f) for f in findings} == PLACES - {"metadata"}
    assert all(f.category == "full_name_with_image" for f in findings)
    assert all(f.severity is Severity.ERROR for f in findings)
    assert all(pupil in f.message for f in findings)
    assert all(name.split()[-1] not in f.message + (f.suggestion or "") for f in findings)


@needs_tesseract
def test_name_in_real_metadata_and_all_other_places(tmp_path, shared_images):
    """The real file's XMP PersonInImage names "Alex Lacamoire": a pupil in this register."""
    copy = tmp_path / "register"
    from conftest import REGISTER

    shutil.copytree(REGISTER, copy, ignore=shutil.ignore_patterns(".encodings", "reference"))
    with (copy / "pupils.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["P2001", "Alex", "Lacamoire", "", "", "6", "yes", "no"])
    register = load_register(copy)
    folder = _draft(
        tmp_path / "draft",
        "Music award for Alex Lacamoire!",
        {"alex_lacamoire_music.jpg": "Alex Lacamoire at the piano", "portrait.jpg": None},
    )
    badge = name_badge("Alex Lacamoire", text_px_for(0.03), dark=True)
    save_jpeg(photo_with(badge, -8), folder / "alex_lacamoire_music.jpg")
    shutil.copy(shared_images / "fr__alex_lacamoire_test.jpg", folder / "portrait.jpg")
    findings = [f for f in _check_names(folder, register) if f.rule.startswith("names.")]
    assert {_place(f) for f in findings} == PLACES
    assert all("P2001" in f.message for f in findings)
    metadata = {f.location.field for f in findings if _place(f) == "metadata"}
    assert "metadata:portrait.jpg:XMP:PersonInImage" in metadata


@needs_tesseract
def test_no_false_hits_on_staff_places_and_books(tmp_path, register):
    folder = _draft(
        tmp_path / "draft",
        "Our Year 9 class are reading Jane Eyre by Charlotte Brontë this term, and Year 3 "
        "loved their trip to Milton Keynes and Sutton Coldfield. Thank you to Mrs Amelia Jones "
        "and Mr Oliver Brown for organising it.",
        {"english.jpg": "Year 9 reading Jane Eyre with Mrs Amelia Jones", "badge.jpg": None},
    )
    save_jpeg(
        photo_with(certificate("Jane Eyre", text_px_for(0.03), "Book of the Month"), 8),
        folder / "english.jpg",
    )
    save_jpeg(photo_with(name_badge("Mrs Amelia Jones", text_px_for(0.03))), folder / "badge.jpg")
    assert _check_names(folder, register) == []


@needs_tesseract
def test_unknown_pupil_named_by_cues_everywhere(tmp_path, register):
    """Names the register does not know, cued as pupils, are found in every place too."""
    folder = _draft(
        tmp_path / "draft",
        "Well done to our Year 4 team: Tom Smith, Priya Shah and Ben Walker-Lee!",
        {"tom_smith_trophy.jpg": None, "certificate.jpg": None},
    )
    save_jpeg(photo_with(name_badge("Team captain", 60), 0), folder / "tom_smith_trophy.jpg")
    save_jpeg(
        photo_with(certificate("Kofi Mensah", text_px_for(0.035)), -8), folder / "certificate.jpg"
    )
    findings = [f for f in _check_names(folder, register) if f.rule.startswith("names.")]
    places = sorted(_place(f) for f in findings)
    assert places == ["body", "body", "body", "filename", "ocr"]
    assert all(f.category == "full_name_with_image" for f in findings)
    assert all("probably a pupil's full name" in f.message for f in findings)
    assert not any(word in f.message for f in findings for word in ("Smith", "Shah", "Mensah"))


def test_unknown_pupil_without_images_is_a_warning(tmp_path, register):
    folder = _draft(tmp_path / "draft", "Congratulations to Tom Smith (aged 7)!", {})
    (finding,) = _check_names(folder, register)
    assert (finding.category, finding.severity) == ("pupil_data", Severity.WARNING)
    assert finding.suggestion == "use the first name only: Congratulations to Tom (aged 7)!"


def test_ocr_unavailable_is_reported(tmp_path, register, monkeypatch):
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    folder = _draft(tmp_path / "draft", "Star of the Week!", {"award.jpg": None})
    save_jpeg(photo_with(certificate("Amelia Jones", text_px_for(0.03))), folder / "award.jpg")
    (finding,) = _check_names(folder, register)
    assert finding.rule == "input.ocr" and finding.severity is Severity.WARNING
    assert finding.location.image == str(folder / "award.jpg")


@needs_tesseract
def test_cli_reports_ocr_names_and_never_prints_them(capsys, tmp_path):
    """`postguard check` end to end: a certificate in the photo blocks the post, and no report
    format repeats a full name, also one the register does not know (body, file and folder)."""
    from cli_helpers import invoke

    folder = _draft(
        tmp_path / "tom-smith-award",
        "Star of the Week in Year 3: Tom Smith!",
        {"tom_smith_certificate.jpg": None},
    )
    save_jpeg(
        photo_with(certificate("Amelia Jones", text_px_for(0.03)), 8),
        folder / "tom_smith_certificate.jpg",
    )
    for fmt in ("text", "json", "sarif"):
        result = invoke(capsys, "check", folder, "--format", fmt)
        assert result.code == 1
        assert "smith" not in result.out.lower() and "jones" not in result.out.lower(), fmt
    report = invoke(capsys, "check", folder, "--format", "json").json()
    fields = {
        f["location"].get("field") for f in report["findings"] if f["rule"].startswith("names.")
    }
    assert {None, "filename:Tom_certificate.jpg", "ocr:Tom_certificate.jpg"} <= fields
