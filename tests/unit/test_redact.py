"""Redaction must be irreversible (DESIGN.md §6), must not touch the original, and is verified."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceimages import ASTRONAUT_FACE, coverage, load_rgb, pasted, photo, scaled, xyxy
from postguard.config import FaceSettings
from postguard.images.faces import detect_faces
from postguard.images.redact import SOLID_COLOUR, redact, redaction_region, verify_redaction

SETTINGS = FaceSettings()
SOLID = FaceSettings(redaction="solid")


@pytest.fixture(scope="module")
def astronaut_box() -> tuple[int, int, int, int]:
    found = detect_faces(photo("astronaut"), SETTINGS)
    return max(found, key=lambda f: coverage(f.box, ASTRONAUT_FACE)).box


def test_original_is_never_modified(astronaut_box) -> None:
    original = photo("astronaut")  # read-only: writing into it would raise
    before = original.copy()
    out = redact(original, [astronaut_box], SETTINGS)
    assert out is not original and not np.shares_memory(out, original)
    assert np.array_equal(original, before)


def test_region_is_one_and_a_half_times_the_box_about_its_centre() -> None:
    assert redaction_region((100, 100, 40, 60), (512, 512, 3), SETTINGS) == (90, 85, 150, 175)
    # clipped at the image edges, never wrapping round
    assert redaction_region((0, 490, 40, 40), (512, 512, 3), SETTINGS) == (0, 480, 50, 512)


def test_pixelation_is_at_most_4x4_blocks_over_the_region(astronaut_box) -> None:
    original = photo("astronaut")
    out = redact(original, [astronaut_box], SETTINGS)
    x0, y0, x1, y1 = redaction_region(astronaut_box, original.shape, SETTINGS)
    assert x1 - x0 >= 1.5 * astronaut_box[2] - 1 and y1 - y0 >= 1.5 * astronaut_box[3] - 1
    region = out[y0:y1, x0:x1].reshape(-1, 3)
    assert len(np.unique(region, axis=0)) <= 16
    # each block is flat: no row or column of a block differs from its neighbour
    rows = np.flatnonzero(np.any(np.diff(out[y0:y1, x0:x1].astype(int), axis=0) != 0, axis=(1, 2)))
    cols = np.flatnonzero(np.any(np.diff(out[y0:y1, x0:x1].astype(int), axis=1) != 0, axis=(0, 2)))
    assert len(rows) <= 3 and len(cols) <= 3
    # and nothing outside the region changed
    mask = np.ones(original.shape[:2], dtype=bool)
    mask[y0:y1, x0:x1] = False
    assert np.array_equal(out[mask], original[mask])


def test_solid_fill_is_one_flat_colour(astronaut_box) -> None:
    out = redact(photo("astronaut"), [astronaut_box], SOLID)
    x0, y0, x1, y1 = redaction_region(astronaut_box, out.shape, SOLID)
    assert np.all(out[y0:y1, x0:x1] == SOLID_COLOUR)


@pytest.mark.parametrize("settings", [SETTINGS, SOLID], ids=["pixelate", "solid"])
def test_redacted_face_is_gone_and_verified(astronaut_box, settings: FaceSettings) -> None:
    original = photo("astronaut")
    out = redact(original, [astronaut_box], settings)
    assert verify_redaction(original, out, [astronaut_box], settings) == []
    region = redaction_region(astronaut_box, out.shape, settings)
    assert all(coverage(f.box, region) == 0 for f in detect_faces(out, settings))


def test_verification_catches_a_redaction_that_did_nothing(astronaut_box) -> None:
    original = photo("astronaut")
    problems = verify_redaction(original, original.copy(), [astronaut_box], SETTINGS)
    where = ",".join(map(str, astronaut_box))
    assert problems == [f"face at ({where}) was not redacted (pixels unchanged)"]


def test_verification_catches_blur_that_can_be_undone(astronaut_box) -> None:
    """McPherson et al.: Gaussian blur with sigma = w/20 still lets dlib identify the face."""
    original = photo("astronaut")
    x, y, w, h = astronaut_box
    blurred = original.copy()
    blurred[y : y + h, x : x + w] = cv2.GaussianBlur(original[y : y + h, x : x + w], (0, 0), w / 20)
    [problem] = verify_redaction(original, blurred, [astronaut_box], SETTINGS)
    assert "still recognisable after redaction (distance 0." in problem


def test_verification_catches_too_fine_pixelation(astronaut_box) -> None:
    """16x16 blocks over the bare box (settings the config refuses) leave the face matchable."""
    original = photo("astronaut")
    weak = FaceSettings(redaction_blocks=16, redaction_scale=1.0)
    out = redact(original, [astronaut_box], weak)
    [problem] = verify_redaction(original, out, [astronaut_box], SETTINGS)
    assert "still recognisable" in problem


def test_small_face_in_large_photo_is_redacted_and_verified() -> None:
    """Verification scales a small face up before looking for it, so the check is not vacuous."""
    canvas = pasted(scaled(photo("astronaut"), 0.5), (3000, 2000), (1200, 900))
    truth = tuple(round(v * 0.5) + (1200, 900)[i % 2] for i, v in enumerate(ASTRONAUT_FACE))
    box = max(detect_faces(canvas, SETTINGS), key=lambda f: coverage(f.box, truth)).box
    out = redact(canvas, [box], SETTINGS)
    assert verify_redaction(canvas, out, [box], SETTINGS) == []
    assert verify_redaction(canvas, canvas.copy(), [box], SETTINGS) != []


def test_crowd_redaction_leaves_no_face_behind(shared_images) -> None:
    """Every face in a real crowd redacted: none is detected again, and all verify."""
    original = load_rgb(shared_images / "retinaface__crowd_test.jpg")
    boxes = [f.box for f in detect_faces(original, SETTINGS)]
    assert len(boxes) >= 20
    out = redact(original, boxes, SETTINGS)
    assert verify_redaction(original, out, boxes, SETTINGS) == []
    regions = [redaction_region(b, out.shape, SETTINGS) for b in boxes]
    as_boxes = [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in regions]
    leftovers = [
        f.box
        for f in detect_faces(out, SETTINGS)
        if any(coverage(region, xyxy(f.box)) > 0.5 for region in as_boxes)  # mostly inside
    ]
    assert leftovers == []
