"""Matching faces to enrolled pupils: accept only a close, unambiguous, well-sized face."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from faceimages import ASTRONAUT_FACE, CAMERAMAN_FACE, coverage, load_rgb, pasted, photo, scaled
from postguard.config import FaceSettings
from postguard.consent.match import (
    FaceMatcher,
    MatchResult,
    compute_encoding,
    encode_face,
    encode_reference,
)
from postguard.images.faces import detect_faces

SETTINGS = FaceSettings()


def face_box(pixels: np.ndarray, truth: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    found = detect_faces(pixels, SETTINGS)
    return max(found, key=lambda f: coverage(f.box, truth)).box


@pytest.fixture(scope="module")
def astronaut_reference() -> np.ndarray:
    """Enrolled from a head-and-shoulders crop, as a school's reference photo would be."""
    encoding, reason = encode_reference(photo("astronaut")[:300, 60:420], SETTINGS)
    assert encoding is not None, reason
    assert encoding.shape == (128,)
    return encoding


@pytest.fixture(scope="module")
def astronaut_in_post() -> np.ndarray:
    """The same person in a differently framed, rescaled photo."""
    pixels = scaled(photo("astronaut")[20:420, 100:440], 1.6)
    offsets = (100, 20, 100, 20)
    truth = tuple(round((v - o) * 1.6) for v, o in zip(ASTRONAUT_FACE, offsets, strict=True))
    encoding = encode_face(pixels, face_box(pixels, truth), SETTINGS)
    assert encoding is not None
    return encoding


@pytest.fixture(scope="module")
def cameraman() -> np.ndarray:
    """The cameraman at twice the size, so his face is over min_face_px."""
    pixels = scaled(photo("camera"), 2.0)
    truth = tuple(2 * v for v in CAMERAMAN_FACE)
    encoding = encode_face(pixels, face_box(pixels, truth), SETTINGS)
    assert encoding is not None
    return encoding


def test_same_person_in_another_photo_is_matched(astronaut_reference, astronaut_in_post) -> None:
    result = FaceMatcher({"P1002": [astronaut_reference]}, SETTINGS).match(astronaut_in_post)
    assert result.pupil_id == "P1002"
    assert result.distance is not None and result.distance <= SETTINGS.match_distance
    assert result.reason.startswith("matched P1002 at 0.")


def test_different_person_is_unknown(astronaut_reference, cameraman) -> None:
    result = FaceMatcher({"P1002": [astronaut_reference]}, SETTINGS).match(cameraman)
    assert result.pupil_id is None
    assert result.distance is not None and result.distance > SETTINGS.match_distance
    assert "treated as unknown" in result.reason


def test_match_names_the_runner_up(astronaut_reference, astronaut_in_post, cameraman) -> None:
    matcher = FaceMatcher({"P1002": [astronaut_reference], "P1007": [cameraman]}, SETTINGS)
    result = matcher.match(astronaut_in_post)
    assert result.pupil_id == "P1002"
    assert "(next 0." in result.reason


def test_two_pupils_equally_close_is_ambiguous(astronaut_reference, astronaut_in_post) -> None:
    matcher = FaceMatcher(
        {"P1002": [astronaut_reference], "P1007": [astronaut_reference]}, SETTINGS
    )
    result = matcher.match(astronaut_in_post)
    assert result.pupil_id is None
    assert result.reason.startswith("ambiguous: P100")
    assert "P1002" in result.reason and "P1007" in result.reason


def test_pupil_distance_is_their_closest_reference(
    astronaut_reference, astronaut_in_post, cameraman
) -> None:
    """A pupil enrolled from a poor photo as well as a good one still matches."""
    matcher = FaceMatcher({"P1002": [cameraman, astronaut_reference]}, SETTINGS)
    assert matcher.match(astronaut_in_post).pupil_id == "P1002"


def test_small_face_is_not_encoded_and_not_matched(astronaut_reference) -> None:
    pixels = scaled(photo("astronaut"), 0.6)  # face about 55 px wide
    truth = tuple(round(v * 0.6) for v in ASTRONAUT_FACE)
    box = face_box(pixels, truth)
    assert min(box[2], box[3]) < SETTINGS.min_face_px
    assert encode_face(pixels, box, SETTINGS) is None
    result = FaceMatcher({"P1002": [astronaut_reference]}, SETTINGS).match(None)
    assert result == MatchResult(None, None, "face too small to encode reliably (< 80 px)")


def test_nobody_enrolled(astronaut_in_post) -> None:
    matcher = FaceMatcher({"P1002": []}, SETTINGS)
    assert matcher.match(astronaut_in_post) == MatchResult(
        None, None, "no pupils enrolled for matching"
    )


def test_reference_photo_must_show_exactly_one_face() -> None:
    assert encode_reference(photo("coffee"), SETTINGS) == (
        None,
        "reference photo has 0 faces (needs exactly one)",
    )
    two = pasted(photo("astronaut")[:300, 60:420], (1000, 600), (0, 0))
    two[:512, 450:962] = photo("camera")
    encoding, reason = encode_reference(two, SETTINGS)
    assert encoding is None and "has 2 faces" in reason


def test_reference_face_too_small() -> None:
    encoding, reason = encode_reference(photo("camera"), SETTINGS)
    assert encoding is None
    assert reason.startswith("reference face too small to encode reliably (")


def test_wrong_reference_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        FaceMatcher({"P1": [np.zeros(64)]}, SETTINGS)


def test_encoding_is_face_recognitions_bit_for_bit() -> None:
    """We call dlib with face_recognition's two model files instead of importing it (1.4 s):
    the encodings, and so the consent decisions and the enrolled store, must not change."""
    import face_recognition

    compared = 0
    for pixels in (photo("astronaut"), scaled(photo("camera"), 2.0), photo("coffee")):
        for face in detect_faces(pixels, SETTINGS):
            x, y, w, h = face.align_box
            [theirs] = face_recognition.face_encodings(
                pixels, known_face_locations=[(y, x + w, y + h, x)], num_jitters=1,
                model="small",
            )
            assert np.array_equal(compute_encoding(pixels, face.align_box), theirs)
            compared += 1
    assert compared >= 3


def test_importing_postguard_face_modules_does_not_load_face_recognition() -> None:
    """dlib's models cost time to load: a post without faces must not pay for them, and
    postguard never needs face_recognition's other two models at all."""
    code = (
        "import sys, postguard.consent.match, postguard.images.faces, postguard.images.redact;"
        "sys.exit('face_recognition' in sys.modules or 'dlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the shared labelled photos ------------------------------------------------------------

OBAMA = [
    "fr__obama.jpg",
    "fr__obama2.jpg",
    "fr__obama3.jpg",
    "fr__obama1_knn_test.jpg",
    "fr__obama-480p.jpg",
    "fr__obama-720p.jpg",
    "fr__obama-1080p.jpg",
]
BIDEN = ["fr__biden.jpg", "fr__biden2.jpg"]
OTHERS = [
    "fr__kit_harington1.jpeg",
    "fr__rose_leslie1.jpg",
    "fr__alex_lacamoire1.jpg",
    "deepface__img2.jpg",  # Angelina Jolie
    "deepface__img13.jpg",  # Mark Zuckerberg
]


@pytest.fixture(scope="module")
def encodings(shared_images) -> dict[str, np.ndarray]:
    """The largest face of each photo, encoded; only faces of at least min_face_px."""
    out = {}
    for name in OBAMA + BIDEN + OTHERS:
        pixels = load_rgb(shared_images / name)
        face = max(detect_faces(pixels, SETTINGS), key=lambda f: f.box[2] * f.box[3])
        encoding = encode_face(pixels, face.box, SETTINGS)
        if encoding is not None:
            out[name] = encoding
    return out


def test_obama_photos_match_each_other_and_not_biden(encodings) -> None:
    assert set(OBAMA) <= set(encodings), "every Obama photo has a face of 80 px or more"
    matcher = FaceMatcher(
        {"OBAMA": [encodings["fr__obama.jpg"]], "BIDEN": [encodings["fr__biden.jpg"]]}, SETTINGS
    )
    for name in OBAMA[1:]:
        assert matcher.match(encodings[name]).pupil_id == "OBAMA", name
    assert matcher.match(encodings["fr__biden2.jpg"]).pupil_id in ("BIDEN", None)


def test_strangers_are_never_matched(encodings) -> None:
    """The dangerous error: someone who is not enrolled accepted as an enrolled pupil."""
    matcher = FaceMatcher(
        {"OBAMA": [encodings["fr__obama.jpg"]], "BIDEN": [encodings["fr__biden.jpg"]]}, SETTINGS
    )
    for name in OTHERS:
        result = matcher.match(encodings[name])
        assert result.pupil_id is None, (name, result.reason)
