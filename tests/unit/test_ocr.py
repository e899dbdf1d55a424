"""OCR reads names off certificates and badges in 12 MP photos, and says when it cannot run.

The photos are real (scikit-image) and the text is drawn with real fonts at the sizes and tilts
of a certificate held up to a phone camera (tests/renderings.py); Tesseract is the real binary.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytesseract
import pytest

from postguard.consent.register import load_register
from postguard.findings import Severity
from postguard.images.ocr import ocr_source, read_text
from postguard.names import find_full_names
from renderings import certificate, name_badge, photo_with, plain_photo, text_px_for

needs_tesseract = pytest.mark.skipif(
    shutil.which(pytesseract.pytesseract.tesseract_cmd) is None,
    reason="Tesseract not installed (make setup installs tesseract-ocr when run as root)",
)
FRACTIONS = (0.02, 0.035, 0.05)  # capital height as a share of the photo's height
ANGLES = (0, 8, -8, 15, -15)


@pytest.fixture(scope="module")
def register():
    from conftest import REGISTER

    return load_register(REGISTER)


@needs_tesseract
@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize("angle", ANGLES)
@pytest.mark.parametrize(
    ("kind", "name", "pupil"),
    [
        ("certificate", "Amelia Jones", "P1001"),
        ("certificate", "Chloé Smith-Jones", "P1006"),
        ("light badge", "Amelia Jones", "P1001"),
        ("dark badge", "Oliver Brown", "P1003"),
    ],
)
def test_register_name_read_from_photo(register, kind, name, pupil, fraction, angle):
    px = text_px_for(fraction)
    card = (
        certificate(name, px)
        if kind == "certificate"
        else name_badge(name, px, dark=kind == "dark badge")
    )
    result = read_text(photo_with(card, angle))
    assert result.ran and result.reason is None
    assert pupil in {h.pupil_id for h in find_full_names(result.text, register, ocr=True)}, (
        result.text
    )


@needs_tesseract
def test_certificate_lines_come_in_reading_order():
    result = read_text(photo_with(certificate("Amelia Jones", text_px_for(0.03)), 8))
    lines = result.text.splitlines()
    title = next(i for i, line in enumerate(lines) if "Star of the Week" in line)
    name = next(i for i, line in enumerate(lines) if "Amelia Jones" in line)
    assert title < name
    assert all(w > 0 and h > 0 for _, _, w, h in result.boxes)


@needs_tesseract
@pytest.mark.parametrize("kind", ["classroom", "cat"])
def test_photo_without_text_names_nobody(register, kind):
    result = read_text(plain_photo(kind))
    assert result.ran
    assert find_full_names(result.text, register, ocr=True) == []


@needs_tesseract
def test_small_and_grey_images_are_read():
    badge = np.asarray(name_badge("Oliver Brown", 40).convert("L"))
    assert "Oliver Brown" in read_text(badge).text


def test_missing_tesseract_is_a_warning_not_silence(monkeypatch):
    """The real library pointed at a binary that does not exist: OCR reports it did not run."""
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    pixels = photo_with(certificate("Amelia Jones", text_px_for(0.03)))
    result = read_text(pixels)
    assert not result.ran and "not installed" in (result.reason or "")
    text, finding = ocr_source(pixels, "photos/award.jpg")
    assert text is None and finding is not None
    assert finding.severity is Severity.WARNING
    assert finding.category == "unreadable_input" and finding.rule == "input.ocr"
    assert finding.location.image == "photos/award.jpg"
    assert "did not run" in finding.message
